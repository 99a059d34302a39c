import { createHash } from 'node:crypto';
import type { HostSpec } from '../../../src/domain/baremetal/host.js';
import type { ProvisionerHost } from '../../../src/domain/baremetal/provisioner.js';

/**
 * A host spec as the provisioner works on it, for tests that drive the provisioner without the
 * database: the host's id is derived from `<site>/<name>` (the same host gets the same id in every
 * call), its node name is `<site>.<name>` as the service gives it, no node recorded yet.
 */
export function provisionerHostOf(spec: HostSpec, site = 'test', options: { nodeId?: string; adopt?: boolean } = {}): ProvisionerHost {
  const hex = createHash('sha256').update(`${site}/${spec.name}`).digest('hex');
  const hostId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  return { ...spec, node: { hostId, label: `${site}/${spec.name}`, nodeName: `${site}.${spec.name}`, nodeId: options.nodeId ?? null, ...(options.adopt ? { adopt: true } : {}) } };
}
