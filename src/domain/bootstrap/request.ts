/**
 * A request to bootstrap a Kubernetes cluster on provisioned hosts, and its validation: every
 * problem is listed, each naming its field, so the user fixes the request in one round. Pure.
 * The result, a plan, is what the renderers and engines take.
 */
import { ValidationError } from '../../errors.js';
import { orderAddons, type Addon } from './addons.js';
import { cidrContains, cidrsOverlap, formatNetwork, parseCidr, type Cidr } from './cidr.js';
import { checkHosts, type BootstrapHost } from './hosts.js';
import { decideSplit, type ClusterSplit } from './split.js';

export const BOOTSTRAP_ENGINES = ['kud-job', 'cluster-api'] as const;
export type BootstrapEngine = (typeof BOOTSTRAP_ENGINES)[number];

export interface BootstrapRequest {
  /** Cluster name: an RFC 1123 label of at most CLUSTER_NAME_MAX_LENGTH characters. */
  name: string;
  controlPlane?: string[];
  workers?: string[];
  /** `v1.29.3`. */
  kubernetesVersion: string;
  podSubnet: string;
  serviceSubnet: string;
  addons: string[];
  engine: BootstrapEngine;
}

export interface BootstrapPlan {
  name: string;
  engine: BootstrapEngine;
  kubernetesVersion: string;
  podSubnet: string;
  serviceSubnet: string;
  /** Known add-ons, dependencies included, in install order. */
  addons: Addon[];
  split: ClusterSplit;
  /** The split's explanation plus add-on notes. */
  notes: string[];
}

export type BootstrapCheck = { ok: true; plan: BootstrapPlan } | { ok: false; problems: string[] };

/**
 * Object names derive from it (`<name>-admin-conf`, `kud-<name>-<hash>`, `<name>-controlplane`),
 * and the longest must stay a 63-character label.
 */
export const CLUSTER_NAME_MAX_LENGTH = 40;
const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const KUBERNETES_VERSION = /^v\d+\.\d+\.\d+$/;
/** The API server refuses service ranges larger than 2^20 addresses. */
const MAX_SERVICE_HOST_BITS = 20;
/** Kubespray's default per-node pod ranges (kube_network_node_prefix, …_ipv6). */
export const NODE_POD_PREFIX = { 4: 24, 6: 120 } as const;

export function checkBootstrapRequest(request: BootstrapRequest, hosts: readonly BootstrapHost[]): BootstrapCheck {
  const problems: string[] = [...checkName(request.name), ...checkHosts(hosts)];
  if (!KUBERNETES_VERSION.test(request.kubernetesVersion)) {
    problems.push(`kubernetesVersion ${JSON.stringify(request.kubernetesVersion)} must look like v1.29.3`);
  }
  if (!(BOOTSTRAP_ENGINES as readonly string[]).includes(request.engine)) {
    problems.push(`engine ${JSON.stringify(request.engine)} must be one of ${BOOTSTRAP_ENGINES.join(', ')}`);
  }
  problems.push(...checkSubnets(request, hosts));
  const addons = orderAddons(request.addons);
  problems.push(...addons.problems);
  const split = decideSplit(hosts, {
    ...(request.controlPlane !== undefined ? { controlPlane: request.controlPlane } : {}),
    ...(request.workers !== undefined ? { workers: request.workers } : {}),
  });
  if (!split.ok) problems.push(...split.problems.filter((p) => !problems.includes(p)));
  if (problems.length > 0 || !split.ok) return { ok: false, problems };
  const { ok: _ok, ...clusterSplit } = split;
  return {
    ok: true,
    plan: {
      name: request.name,
      engine: request.engine,
      kubernetesVersion: request.kubernetesVersion,
      podSubnet: request.podSubnet,
      serviceSubnet: request.serviceSubnet,
      addons: addons.addons,
      split: clusterSplit,
      notes: [...clusterSplit.explanation, ...addons.notes],
    },
  };
}

/** The plan, or a ValidationError (400) listing every problem. */
export function planBootstrap(request: BootstrapRequest, hosts: readonly BootstrapHost[]): BootstrapPlan {
  const result = checkBootstrapRequest(request, hosts);
  if (!result.ok) throw new ValidationError(`The bootstrap request is invalid: ${result.problems.join('; ')}`, result.problems);
  return result.plan;
}

export function checkName(name: string): string[] {
  if (name.length <= CLUSTER_NAME_MAX_LENGTH && CLUSTER_NAME.test(name)) return [];
  return [`name ${JSON.stringify(name)} must be an RFC 1123 label (lower case letters, digits and '-', starting and ending with a letter or digit) of at most ${CLUSTER_NAME_MAX_LENGTH} characters`];
}

export function checkKubernetesVersion(version: string): string[] {
  return KUBERNETES_VERSION.test(version) ? [] : [`kubernetesVersion ${JSON.stringify(version)} must look like v1.29.3`];
}

/** Both subnets well-formed, apart, sized sensibly, and clear of the hosts' own addresses. */
export function checkSubnets(request: Pick<BootstrapRequest, 'podSubnet' | 'serviceSubnet'>, hosts: readonly Pick<BootstrapHost, 'name' | 'address'>[]): string[] {
  const problems: string[] = [];
  const pods = parseSubnet('podSubnet', request.podSubnet, problems);
  const services = parseSubnet('serviceSubnet', request.serviceSubnet, problems);
  if (pods && services && cidrsOverlap(pods, services)) {
    problems.push(`podSubnet ${pods.text} and serviceSubnet ${services.text} overlap; pick ranges that share no address`);
  }
  if (services) {
    const hostBits = (services.family === 4 ? 32 : 128) - services.prefix;
    if (hostBits > MAX_SERVICE_HOST_BITS) {
      problems.push(`serviceSubnet ${services.text} is too large: the API server accepts at most /${(services.family === 4 ? 32 : 128) - MAX_SERVICE_HOST_BITS}`);
    }
  }
  if (pods) {
    const nodePrefix = NODE_POD_PREFIX[pods.family];
    const nodes = Math.max(hosts.length, 1);
    const perNodeRanges = pods.prefix <= nodePrefix ? 2 ** Math.min(nodePrefix - pods.prefix, 30) : 0;
    if (perNodeRanges < nodes) {
      problems.push(`podSubnet ${pods.text} is too small: each node gets a /${nodePrefix}, so ${nodes} node(s) need at least a /${nodePrefix - Math.ceil(Math.log2(nodes))}`);
    }
  }
  for (const [field, cidr] of [['podSubnet', pods], ['serviceSubnet', services]] as const) {
    if (!cidr) continue;
    for (const host of hosts) {
      if (cidrContains(cidr, host.address)) problems.push(`${field} ${cidr.text} contains ${host.name}'s address ${host.address}; cluster ranges must not overlap the hosts' network`);
    }
  }
  return problems;
}

function parseSubnet(field: string, text: string, problems: string[]): Cidr | undefined {
  const cidr = parseCidr(text);
  if (!cidr) {
    problems.push(`${field} ${JSON.stringify(text)} is not a CIDR block (like 10.233.64.0/18)`);
    return undefined;
  }
  if (cidr.hostBitsSet) {
    problems.push(`${field} ${text} has bits set past the prefix; did you mean ${formatNetwork(cidr)}?`);
    return undefined;
  }
  return cidr;
}
