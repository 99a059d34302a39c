/**
 * The hosts a cluster is bootstrapped on: provisioned servers, each with the IP address the
 * installer reaches it at over SSH. Pure. The roles are those of the bare-metal host model
 * (src/domain/baremetal/host.ts); they are repeated here so that bootstrap depends only on this
 * small shape, not on the provisioning layer.
 */
import { isIP } from 'node:net';

export const BOOTSTRAP_HOST_ROLES = ['control-plane', 'compute', 'gpu', 'storage', 'infra'] as const;
export type BootstrapHostRole = (typeof BOOTSTRAP_HOST_ROLES)[number];

export interface BootstrapHost {
  /** Becomes the Kubernetes node name: an RFC 1123 label. */
  name: string;
  /** IPv4 or IPv6 address the installer connects to (SSH, port 22). */
  address: string;
  role: BootstrapHostRole;
  labels?: Record<string, string>;
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Every problem of the host list: bad names or addresses, names or addresses used twice. */
export function checkHosts(hosts: readonly BootstrapHost[]): string[] {
  const problems: string[] = [];
  if (hosts.length === 0) problems.push('hosts: no provisioned host to bootstrap a cluster on');
  const names = new Map<string, number>();
  const addresses = new Map<string, string>();
  hosts.forEach((host, index) => {
    const at = `hosts[${index}]`;
    if (!(host.name.length <= 63 && NODE_NAME.test(host.name))) {
      problems.push(`${at}.name ${JSON.stringify(host.name)} must be an RFC 1123 label (lower case letters, digits and '-', at most 63 characters): it becomes the node name`);
    }
    if (names.has(host.name)) problems.push(`${at}.name ${JSON.stringify(host.name)} is used by hosts[${names.get(host.name)}] too`);
    else names.set(host.name, index);
    if (isIP(host.address) === 0) problems.push(`${at}.address ${JSON.stringify(host.address)} (${host.name}) is not an IP address`);
    const other = addresses.get(host.address);
    if (other !== undefined) problems.push(`${at}.address ${host.address} is also the address of ${other}`);
    else addresses.set(host.address, host.name);
    if (!(BOOTSTRAP_HOST_ROLES as readonly string[]).includes(host.role)) {
      problems.push(`${at}.role ${JSON.stringify(host.role)} is not one of ${BOOTSTRAP_HOST_ROLES.join(', ')}`);
    }
  });
  return problems;
}

export function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
