import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { realKubeUnavailable } from '../support/real-kube.js';

/**
 * The README's "Kubernetes (Helm)" commands, run as written (only /tmp/k becomes a folder of the
 * test's own, and helm's and kubectl's caches go under it): kube:up, helm install, kubectl get,
 * helm upgrade, helm uninstall, kube:down. A README that drifts from the chart fails here.
 */
const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const unavailable = realKubeUnavailable();
if (unavailable && process.env.CI === 'true') throw new Error(`CI=true but the real control plane cannot run: ${unavailable}`);
if (unavailable) console.warn(`Skipping the README's Helm commands: ${unavailable}`);

/** The first sh block of the README section `heading`, continuation lines joined. */
async function readmeCommands(heading: string): Promise<string[]> {
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((part) => part.startsWith(heading));
  const block = /```sh\n([\s\S]*?)```/.exec(section ?? '')?.[1];
  if (block === undefined) throw new Error(`README.md has no sh block under "## ${heading}"`);
  return block.replace(/\\\n\s*/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
}

describe.runIf(!unavailable)("the README's Kubernetes (Helm) commands", () => {
  let dir = '';
  afterAll(async () => {
    if (dir === '') return;
    await run('npm', ['run', '--silent', 'kube:down', '--', '--dir', path.join(dir, 'k')], { cwd: ROOT }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('install the chart into kube:up\'s control plane, show it, upgrade it, uninstall it, stop the control plane', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'slipway-readme-helm-'));
    const commands = await readmeCommands('Kubernetes (Helm)');
    expect(commands[0]).toBe('npm run kube:up -- --dir /tmp/k');
    expect(commands.some((c) => c.includes('helm install'))).toBe(true);
    expect(commands.at(-1)).toBe('npm run kube:down -- --dir /tmp/k');
    const env = {
      ...process.env,
      HELM_CACHE_HOME: path.join(dir, 'helm-cache'), HELM_CONFIG_HOME: path.join(dir, 'helm-config'), HELM_DATA_HOME: path.join(dir, 'helm-data'),
      KUBECACHEDIR: path.join(dir, 'kube-cache'),
    };
    const outputs: string[] = [];
    for (const command of commands) {
      const literal = command.replaceAll('/tmp/k', path.join(dir, 'k'));
      const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', literal], { cwd: ROOT, env, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 })
        .catch((error: unknown) => {
          const stderr = typeof error === 'object' && error !== null && 'stderr' in error ? String(error.stderr) : '';
          throw new Error(`README command failed: ${command}\n${stderr}`);
        });
      outputs.push(stdout);
    }
    const shown = outputs[commands.findIndex((c) => c.includes('kubectl') && c.includes(' get '))] ?? '';
    for (const kind of ['deployment.apps/slipway', 'service/slipway', 'ingress.networking.k8s.io/slipway', 'configmap/slipway', 'secret/slipway']) expect(shown).toContain(kind);
    expect(outputs[commands.findIndex((c) => c.includes('helm upgrade'))]).toContain('REVISION: 2');
  });
});
