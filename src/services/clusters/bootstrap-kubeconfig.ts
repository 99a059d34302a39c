import { readFile } from 'node:fs/promises';
import type { Config } from '../../config.js';
import { KubeconfigRejectedError, parseKubeconfig, type SafeKubeconfig } from '../../domain/kubeconfig.js';
import { ConfigError, errorMessage } from '../../errors.js';

/**
 * BOOTSTRAP_KUBECONFIG, read and checked at boot like any kube config (inline credentials only):
 * a bad file stops the service with the variable's name and the problems, never the file's values.
 */
export async function loadBootstrapKubeconfig(config: Config): Promise<SafeKubeconfig | undefined> {
  if (config.bootstrapKubeconfig === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(config.bootstrapKubeconfig, 'utf8');
  } catch (error: unknown) {
    throw new ConfigError([`BOOTSTRAP_KUBECONFIG="${config.bootstrapKubeconfig}" cannot be read: ${errorMessage(error)}`]);
  }
  try {
    return parseKubeconfig(text, { allowInsecure: config.allowInsecureClusters });
  } catch (error: unknown) {
    if (!(error instanceof KubeconfigRejectedError)) throw error;
    throw new ConfigError(error.problems.map((p) => `BOOTSTRAP_KUBECONFIG: ${p.field}: ${p.message}`));
  }
}
