/**
 * Which hosts run the control plane (and etcd) and which run workloads. Pure.
 *
 * Without a request:
 * - hosts with the role `control-plane` are the candidates; else `infra` hosts; else every host,
 *   plain `compute` servers before `gpu` and `storage` ones (those are worth more as workers);
 * - with explicit `control-plane` hosts, all of them are taken when their number is odd; one of
 *   an even number becomes a worker, because etcd needs a majority: 4 members tolerate one
 *   failure, no more than 3 do, and cost one more vote to reach;
 * - otherwise 3 control-plane nodes when there are at least 3 candidates and at least 5 hosts
 *   (3 + 2 workers, so a control-plane failure leaves both the API and workloads running), else 1;
 * - the rest are workers. A cluster with no worker left lets the control plane run workloads.
 *
 * A request names the control plane, the workers, or both; every problem is listed. An even
 * number of control-plane nodes above one is refused (see above). Hosts in neither list, when
 * both are given, stay out of the cluster.
 */
import { byName, type BootstrapHost, type BootstrapHostRole } from './hosts.js';

export interface RequestedSplit {
  controlPlane?: readonly string[];
  workers?: readonly string[];
}

export interface ClusterSplit {
  controlPlane: string[];
  workers: string[];
  /** No dedicated worker: the control-plane nodes are schedulable and join the node group. */
  controlPlaneRunsWorkloads: boolean;
  /** Provisioned hosts the request left out of the cluster. */
  leftOut: string[];
  /** One line per decision, for the job's events and the user. */
  explanation: string[];
}

export type SplitResult = ({ ok: true } & ClusterSplit) | { ok: false; problems: string[] };

/** Fallback candidates: cheap servers first. */
const FALLBACK_PRIORITY: Record<BootstrapHostRole, number> = { 'control-plane': 0, infra: 0, compute: 1, storage: 2, gpu: 3 };

const HA_CONTROL_PLANE = 3;
const HA_MIN_HOSTS = 5;

export function decideSplit(hosts: readonly BootstrapHost[], requested: RequestedSplit = {}): SplitResult {
  const sorted = [...hosts].sort(byName);
  if (sorted.length === 0) return { ok: false, problems: ['hosts: no provisioned host to bootstrap a cluster on'] };
  const problems = checkRequested(sorted, requested);
  if (problems.length > 0) return { ok: false, problems };

  const explanation: string[] = [];
  const { controlPlane: askedControlPlane, workers: askedWorkers } = requested;
  let controlPlane: string[];
  let workers: string[];
  if (askedControlPlane !== undefined) {
    controlPlane = [...askedControlPlane];
    explanation.push(`control plane as requested: ${controlPlane.join(', ')}`);
    workers = askedWorkers !== undefined ? [...askedWorkers] : sorted.map((h) => h.name).filter((n) => !controlPlane.includes(n));
    explanation.push(askedWorkers !== undefined ? `workers as requested: ${listOrNone(workers)}` : `workers: every other host (${listOrNone(workers)})`);
  } else {
    const pool = askedWorkers === undefined ? sorted : sorted.filter((h) => !askedWorkers.includes(h.name));
    if (pool.length === 0) return { ok: false, problems: ['workers: every host is listed as a worker; leave at least one for the control plane'] };
    controlPlane = chooseControlPlane(pool, sorted.length, explanation);
    workers = askedWorkers !== undefined ? [...askedWorkers] : sorted.map((h) => h.name).filter((n) => !controlPlane.includes(n));
    explanation.push(askedWorkers !== undefined ? `workers as requested: ${listOrNone(workers)}` : `workers: every other host (${listOrNone(workers)})`);
  }
  warnAboutRoles(sorted, controlPlane, explanation);
  const inCluster = new Set([...controlPlane, ...workers]);
  const leftOut = sorted.map((h) => h.name).filter((name) => !inCluster.has(name));
  if (leftOut.length > 0) explanation.push(`left out of the cluster (in neither list): ${leftOut.join(', ')}`);
  const controlPlaneRunsWorkloads = workers.length === 0;
  if (controlPlaneRunsWorkloads) explanation.push('no dedicated worker: the control-plane nodes also run workloads');
  return { ok: true, controlPlane, workers, controlPlaneRunsWorkloads, leftOut, explanation };
}

function chooseControlPlane(pool: readonly BootstrapHost[], hostCount: number, explanation: string[]): string[] {
  const explicit = pool.filter((h) => h.role === 'control-plane');
  if (explicit.length > 0) {
    const taken = explicit.length % 2 === 1 ? explicit : explicit.slice(0, -1);
    const names = taken.map((h) => h.name);
    explanation.push(`control plane: the ${explicit.length} host(s) with role control-plane (${names.join(', ')})`);
    if (taken.length < explicit.length) {
      explanation.push(`${explicit.at(-1)?.name ?? ''} has role control-plane but runs as a worker: etcd needs an odd number of members (${explicit.length} tolerate no more failures than ${taken.length})`);
    }
    return names;
  }
  const infra = pool.filter((h) => h.role === 'infra');
  const candidates = infra.length > 0 ? infra : [...pool].sort((a, b) => FALLBACK_PRIORITY[a.role] - FALLBACK_PRIORITY[b.role] || byName(a, b));
  const from = infra.length > 0 ? 'hosts with role infra' : 'no host has role control-plane or infra, so from all hosts, compute before storage and gpu';
  const count = candidates.length >= HA_CONTROL_PLANE && hostCount >= HA_MIN_HOSTS ? HA_CONTROL_PLANE : 1;
  const names = candidates.slice(0, count).map((h) => h.name);
  const why = count === HA_CONTROL_PLANE
    ? `${HA_CONTROL_PLANE} for a highly available control plane (${candidates.length} candidates, ${hostCount} hosts)`
    : `1 (${HA_CONTROL_PLANE} need at least ${HA_CONTROL_PLANE} candidates and ${HA_MIN_HOSTS} hosts; here ${candidates.length} and ${hostCount})`;
  explanation.push(`control plane: ${names.join(', ')} — ${from}; ${why}`);
  return names;
}

function checkRequested(hosts: readonly BootstrapHost[], requested: RequestedSplit): string[] {
  const known = new Set(hosts.map((h) => h.name));
  const problems: string[] = [];
  const checkList = (field: 'controlPlane' | 'workers', list: readonly string[]): void => {
    const seen = new Set<string>();
    list.forEach((name, index) => {
      if (!known.has(name)) problems.push(`${field}[${index}] ${JSON.stringify(name)} is not a provisioned host of this site (known: ${[...known].join(', ')})`);
      if (seen.has(name)) problems.push(`${field}[${index}] ${JSON.stringify(name)} is listed twice`);
      seen.add(name);
    });
  };
  const { controlPlane, workers } = requested;
  if (controlPlane !== undefined) {
    checkList('controlPlane', controlPlane);
    const count = new Set(controlPlane).size;
    if (count === 0) problems.push('controlPlane: name at least one host (or leave the list out to let Slipway choose)');
    if (count > 1 && count % 2 === 0) {
      problems.push(`controlPlane: ${count} hosts; etcd needs an odd number (1, 3, 5): ${count} members tolerate no more failures than ${count - 1}`);
    }
  }
  if (workers !== undefined) checkList('workers', workers);
  if (controlPlane !== undefined && workers !== undefined) {
    for (const name of new Set(controlPlane)) {
      if (workers.includes(name)) problems.push(`${JSON.stringify(name)} is in both controlPlane and workers; a control-plane node runs workloads only when there is no worker`);
    }
  }
  return problems;
}

function warnAboutRoles(hosts: readonly BootstrapHost[], controlPlane: readonly string[], explanation: string[]): void {
  for (const name of controlPlane) {
    const role = hosts.find((h) => h.name === name)?.role;
    if (role === 'gpu' || role === 'storage') explanation.push(`note: ${name} is a ${role} host in the control plane; its ${role === 'gpu' ? 'GPUs' : 'disks'} serve workloads only if the control plane runs workloads`);
  }
}

function listOrNone(names: readonly string[]): string {
  return names.length > 0 ? names.join(', ') : 'none';
}
