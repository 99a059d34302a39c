/**
 * Provisioned hosts as the bootstrap engines need them: name, role and the address the installer
 * reaches them at — the host's `address` column, else the first IP of its network data
 * (`networks[].ip_address`, OpenStack's network_data.json, as the config drive gave it).
 */
import { isIP } from 'node:net';
import type { BootstrapHost } from '../../domain/bootstrap/index.js';
import { ValidationError } from '../../errors.js';
import type { Host } from '../sites/model.js';

export function hostAddress(host: Pick<Host, 'address' | 'configDrive'>): string | undefined {
  if (host.address !== null && isIP(host.address) !== 0) return host.address;
  const networks: unknown = host.configDrive.networkData?.networks;
  if (!Array.isArray(networks)) return undefined;
  for (const network of networks as unknown[]) {
    if (typeof network !== 'object' || network === null) continue;
    const ip: unknown = (network as Record<string, unknown>).ip_address;
    if (typeof ip === 'string' && isIP(ip) !== 0) return ip;
  }
  return undefined;
}

/**
 * The named hosts (all `hosts` when `names` is undefined) as bootstrap hosts; every host that is
 * missing, not provisioned or without an address is named in one 400.
 */
export function bootstrapHostsOf(site: string, hosts: readonly Host[], names: readonly string[]): BootstrapHost[] {
  const problems: string[] = [];
  const chosen: BootstrapHost[] = [];
  for (const name of names) {
    const host = hosts.find((h) => h.name === name);
    if (!host) {
      problems.push(`hosts: ${name} is not a host of site ${site}`);
      continue;
    }
    if (host.state !== 'provisioned') problems.push(`hosts: ${name} is ${host.state}, not provisioned; provision it first`);
    const address = hostAddress(host);
    if (address === undefined) problems.push(`hosts: ${name} has no address: set one in its networkData (networks[].ip_address) so the installer can reach it`);
    else chosen.push({ name: host.name, address, role: host.spec.role, labels: host.labels });
  }
  if (problems.length > 0) throw new ValidationError(`The hosts cannot be used: ${problems.join('; ')}`, problems);
  return chosen;
}
