/**
 * Which Ironic node is a host's own. Every node Slipway creates carries the host's mark
 * (`extra.slipway_host`, the host's id) and the host's node name, unique across every site. A
 * node is found by the UUID recorded on the host, else by that name, else (registration only) by
 * the port holding the host's boot MAC — and then used only when it is the host's:
 *
 * - marked for this host: it is;
 * - marked for another host: never, whatever the options (a conflict naming both hosts);
 * - unmarked: the node recorded for this host before marks existed, when it holds the host's boot
 *   MAC, is claimed (marked and renamed); any other unmarked node only when the operator asked to
 *   adopt it. Otherwise a conflict saying how to adopt it.
 */
import type { ProvisionerHost } from '../../domain/baremetal/provisioner.js';
import type { IronicClient } from './client.js';
import { isIronicApiError } from './errors.js';
import type { IronicNode } from './node.js';
import { claimPatch, OWNER_KEY, OWNER_LABEL_KEY } from './node-request.js';

export type Owned =
  | { kind: 'found'; node: IronicNode }
  /** No node: `gone` when the host had one recorded (it was deleted behind Slipway's back). */
  | { kind: 'missing'; gone: boolean }
  | { kind: 'conflict'; message: string };

export interface FindOptions {
  /** Also look for the port holding the boot MAC (registration: a node enrolled by hand). */
  byMac: boolean;
  /** Mark an unmarked node that may be claimed (false for reads that change nothing). */
  claim: boolean;
}

/** The host a node is marked for, if any. */
export function ownerOf(node: IronicNode): { hostId: string; label: string } | undefined {
  const hostId = node.extra[OWNER_KEY];
  if (typeof hostId !== 'string' || hostId === '') return undefined;
  const label = node.extra[OWNER_LABEL_KEY];
  return { hostId, label: typeof label === 'string' ? label : hostId };
}

export function describeNode(node: IronicNode): string {
  return node.name === null ? node.uuid : `${node.name} (${node.uuid})`;
}

export async function findOwnNode(client: IronicClient, host: ProvisionerHost, options: FindOptions): Promise<Owned> {
  const identity = host.node;
  if (identity.nodeId !== null) {
    const recorded = await client.getNode(identity.nodeId);
    if (recorded) return settle(client, host, recorded, 'recorded', options);
  }
  const byName = await client.getNode(identity.nodeName);
  if (byName) return settle(client, host, byName, 'name', options);
  if (options.byMac) {
    const port = await client.findPortByAddress(host.bootMacAddress);
    const node = port ? await client.getNode(port.nodeUuid) : undefined;
    if (node) return settle(client, host, node, 'boot MAC', options);
  }
  return { kind: 'missing', gone: identity.nodeId !== null };
}

type FoundBy = 'recorded' | 'name' | 'boot MAC';

async function settle(client: IronicClient, host: ProvisionerHost, node: IronicNode, by: FoundBy, options: FindOptions): Promise<Owned> {
  const identity = host.node;
  const how = by === 'recorded' ? 'the node id recorded for it' : by === 'name' ? `its node name ${identity.nodeName}` : `its boot MAC ${host.bootMacAddress}`;
  const owner = ownerOf(node);
  if (owner !== undefined) {
    if (owner.hostId === identity.hostId) return { kind: 'found', node };
    return {
      kind: 'conflict',
      message: `Ironic node ${describeNode(node)}, found by ${how}, belongs to host ${owner.label}: host ${identity.label} cannot use it${by === 'boot MAC' ? ' (give it its own boot MAC)' : ''}`,
    };
  }
  const mayClaim = identity.adopt === true || (by === 'recorded' && (await holdsBootMac(client, node, host.bootMacAddress)));
  if (!mayClaim) {
    return {
      kind: 'conflict',
      message: `Ironic node ${describeNode(node)}, found by ${how}, belongs to no Slipway host: to make it host ${identity.label}'s, start the provisioning job with "adopt": true`,
    };
  }
  return options.claim ? { kind: 'found', node: await claim(client, host, node) } : { kind: 'found', node };
}

/** A node recorded before marks existed is the host's only if the host's boot MAC is on it (or it has no port yet). */
async function holdsBootMac(client: IronicClient, node: IronicNode, mac: string): Promise<boolean> {
  const ports = await client.listPortsOfNode(node.uuid);
  return ports.length === 0 || ports.some((port) => port.address.toLowerCase() === mac.toLowerCase());
}

async function claim(client: IronicClient, host: ProvisionerHost, node: IronicNode): Promise<IronicNode> {
  try {
    return await client.updateNode(node.uuid, claimPatch(host.node, node.name));
  } catch (error: unknown) {
    // The node name is taken by another node: mark it and keep its name; it is found by its id.
    if (!isIronicApiError(error, 409)) throw error;
    return client.updateNode(node.uuid, claimPatch(host.node, host.node.nodeName));
  }
}
