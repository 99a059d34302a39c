import type { ProvisionerHost } from '../../domain/baremetal/provisioner.js';
import type { Host } from './model.js';

/** A stored host as the provisioner works on it: its spec and the identity of its own node. */
export function provisionerHost(host: Host, options: { adopt?: boolean } = {}): ProvisionerHost {
  return {
    ...host.spec,
    node: { hostId: host.id, label: `${host.site}/${host.name}`, nodeName: host.nodeName, nodeId: host.nodeId, ...(options.adopt ? { adopt: true } : {}) },
  };
}
