/**
 * The Kubespray inventory (`hosts.ini`) the KUD installer runs with. Pure.
 *
 * Group names: current Kubespray calls them `kube_control_plane`, `kube_node`, `etcd` and
 * `k8s_cluster`; the Kubespray bundled with older KUD releases (and ICN's BPA) used
 * `kube-master`, `kube-node`, `etcd` and `k8s-cluster`. Current names are the default
 * (Kubespray 2.16 deprecated the old ones and later releases removed them); `legacy` writes the
 * old ones. etcd runs on the control-plane nodes.
 */
import type { BootstrapHost } from './hosts.js';
import type { ClusterSplit } from './split.js';

export const INVENTORY_GROUP_STYLES = ['current', 'legacy'] as const;
export type InventoryGroupStyle = (typeof INVENTORY_GROUP_STYLES)[number];

const GROUPS: Record<InventoryGroupStyle, { controlPlane: string; node: string; cluster: string }> = {
  current: { controlPlane: 'kube_control_plane', node: 'kube_node', cluster: 'k8s_cluster' },
  legacy: { controlPlane: 'kube-master', node: 'kube-node', cluster: 'k8s-cluster' },
};

export interface InventoryOptions {
  cluster: string;
  groupStyle?: InventoryGroupStyle;
  /** A scale-out: the installer runs with `--limit` on these nodes (they must be workers). */
  limit?: readonly string[];
}

export function renderKudInventory(split: Pick<ClusterSplit, 'controlPlane' | 'workers' | 'controlPlaneRunsWorkloads'>, hosts: readonly BootstrapHost[], options: InventoryOptions): string {
  const groups = GROUPS[options.groupStyle ?? 'current'];
  const addressOf = new Map(hosts.map((host) => [host.name, host.address]));
  const members = [...split.controlPlane, ...split.workers];
  const missing = members.filter((name) => !addressOf.has(name));
  if (missing.length > 0) throw new Error(`renderKudInventory: no address for ${missing.join(', ')}`);
  const nodes = split.controlPlaneRunsWorkloads ? split.controlPlane : split.workers;

  const lines = [
    `# Kubespray inventory of cluster ${options.cluster}, written by Slipway.`,
    ...(options.limit && options.limit.length > 0 ? [`# Scale-out: the installer runs with --limit=${options.limit.join(',')}.`] : []),
    '[all]',
    ...members.map((name) => `${name} ansible_ssh_host=${addressOf.get(name) ?? ''} ansible_ssh_port=22`),
    '',
    `[${groups.controlPlane}]`,
    ...split.controlPlane,
    '',
    '[etcd]',
    ...split.controlPlane,
    '',
    `[${groups.node}]`,
    ...nodes,
    '',
    `[${groups.cluster}:children]`,
    groups.node,
    groups.controlPlane,
  ];
  return `${lines.join('\n')}\n`;
}
