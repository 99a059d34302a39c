import type { Config } from '../../config.js';
import { IronicClient } from '../../adapters/ironic/client.js';
import { IronicProvisioner } from '../../adapters/ironic/provisioner.js';
import type { BareMetalProvisioner } from '../../domain/baremetal/provisioner.js';

/** The provisioner IRONIC_URL names (jobs and the reconciliation share it), or undefined without one. */
export function ironicProvisionerFactory(config: Config): (() => BareMetalProvisioner) | undefined {
  const endpoint = config.ironicUrl;
  if (!endpoint) return undefined;
  return () => new IronicProvisioner(new IronicClient({ endpoint }), { quickPollMs: config.ironicPollMs.quick, slowPollMs: config.ironicPollMs.slow });
}
