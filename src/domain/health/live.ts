/**
 * A live deployment compared with what it should be, after it succeeded (pure):
 * - health: each object healthy, progressing (a rollout under way), degraded (fewer replicas
 *   than rendered, Pods not Ready, a container failing) or missing; the worst of them overall;
 * - sync: each rendered object missing, or modified in a field Slipway set (the rendered object
 *   compared as a subset of the live one, so what the server adds — defaults, status, cluster IPs
 *   — is not a difference).
 */
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { assessDeployment } from './deployment.js';
import type { ClusterState } from './types.js';

export const LIVE_HEALTH = ['healthy', 'progressing', 'degraded', 'missing'] as const;
export type LiveHealthStatus = (typeof LIVE_HEALTH)[number];

export interface LiveObjectHealth {
  kind: string;
  name: string;
  status: LiveHealthStatus;
  reason?: string;
}

export interface LiveHealth {
  status: LiveHealthStatus;
  reason: string;
  objects: LiveObjectHealth[];
  checkedAt: string;
}

export interface SyncDifference {
  kind: string;
  name: string;
  change: 'missing' | 'modified';
  fields: string[];
}

export interface LiveSync {
  status: 'synced' | 'out-of-sync';
  differences: SyncDifference[];
  checkedAt: string;
}

export interface DesiredObjects {
  deployments: readonly V1Deployment[];
  services: readonly KubernetesObject[];
  persistentVolumeClaims: readonly KubernetesObject[];
}

const RANK: Record<LiveHealthStatus, number> = { healthy: 0, progressing: 1, degraded: 2, missing: 3 };

export function liveHealth(desired: DesiredObjects, state: ClusterState, checkedAt: string): LiveHealth {
  const find = <T extends KubernetesObject>(items: readonly T[], name: string) => items.find((i) => i.metadata?.name === name);
  const objects: LiveObjectHealth[] = [];
  for (const claim of desired.persistentVolumeClaims) {
    const name = claim.metadata?.name ?? '';
    const live = find(state.pvcs, name);
    if (!live) objects.push({ kind: 'PersistentVolumeClaim', name, status: 'missing', reason: 'deleted' });
    else if (live.status?.phase === 'Bound') objects.push({ kind: 'PersistentVolumeClaim', name, status: 'healthy' });
    else objects.push({ kind: 'PersistentVolumeClaim', name, status: 'degraded', reason: `claim is ${live.status?.phase ?? 'not bound'}` });
  }
  for (const service of desired.services) {
    const name = service.metadata?.name ?? '';
    objects.push(find(state.services, name) ? { kind: 'Service', name, status: 'healthy' } : { kind: 'Service', name, status: 'missing', reason: 'deleted' });
  }
  for (const deployment of desired.deployments) {
    const name = deployment.metadata?.name ?? '';
    const live = find(state.deployments, name);
    objects.push(live ? deploymentHealth(deployment, live, state) : { kind: 'Deployment', name, status: 'missing', reason: 'deleted' });
  }
  const worst = objects.reduce<LiveHealthStatus>((acc, o) => (RANK[o.status] > RANK[acc] ? o.status : acc), 'healthy');
  const reasons = objects.filter((o) => o.status !== 'healthy').map((o) => `${o.kind}/${o.name}: ${o.reason ?? o.status}`);
  return { status: worst, reason: reasons.length > 0 ? reasons.join('; ') : 'every object is as deployed and ready', objects, checkedAt };
}

function deploymentHealth(desired: V1Deployment, live: V1Deployment, state: ClusterState): LiveObjectHealth {
  const name = live.metadata?.name ?? '';
  const want = desired.spec?.replicas ?? 1;
  const has = live.spec?.replicas ?? 1;
  if (has < want) return { kind: 'Deployment', name, status: 'degraded', reason: `scaled to ${has} of ${want} replica(s)` };
  const assessment = assessDeployment(live, state.pods, state.events);
  if (assessment.status === 'ready') return { kind: 'Deployment', name, status: 'healthy' };
  const rollingOut = (live.status?.observedGeneration ?? 0) < (live.metadata?.generation ?? 0) || (live.status?.updatedReplicas ?? 0) < has;
  if (rollingOut && assessment.status === 'progressing') return { kind: 'Deployment', name, status: 'progressing', reason: assessment.reason ?? 'rolling out' };
  const ready = live.status?.readyReplicas ?? 0;
  return { kind: 'Deployment', name, status: 'degraded', reason: assessment.reason ?? `${ready} of ${has} Pod(s) ready` };
}

export function liveSync(desired: DesiredObjects, state: ClusterState, checkedAt: string): LiveSync {
  const differences: SyncDifference[] = [];
  const compare = (kind: string, wanted: readonly KubernetesObject[], live: readonly KubernetesObject[]) => {
    for (const object of wanted) {
      const name = object.metadata?.name ?? '';
      const found = live.find((l) => l.metadata?.name === name);
      if (!found) {
        differences.push({ kind, name, change: 'missing', fields: [] });
        continue;
      }
      const fields: string[] = [];
      const pick = (o: KubernetesObject) => ({ metadata: { labels: o.metadata?.labels ?? {} }, spec: (o as { spec?: unknown }).spec });
      subsetDiff(pick(object), pick(found), '', fields);
      if (fields.length > 0) differences.push({ kind, name, change: 'modified', fields });
    }
  };
  compare('PersistentVolumeClaim', desired.persistentVolumeClaims, state.pvcs);
  compare('Service', desired.services, state.services);
  compare('Deployment', desired.deployments, state.deployments);
  return { status: differences.length === 0 ? 'synced' : 'out-of-sync', differences, checkedAt };
}

/** Paths where `want` (every field it has) differs from `have`; fields only `have` has are not differences. */
export function subsetDiff(want: unknown, have: unknown, path: string, out: string[]): void {
  if (out.length >= 50) return;
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) {
      out.push(path);
      return;
    }
    want.forEach((item, i) => subsetDiff(item, have[i], `${path}[${i}]`, out));
    return;
  }
  if (typeof want === 'object' && want !== null) {
    if (typeof have !== 'object' || have === null || Array.isArray(have)) {
      out.push(path);
      return;
    }
    for (const [key, value] of Object.entries(want)) {
      const next = path === '' ? key : /^[A-Za-z_]\w*$/.test(key) ? `${path}.${key}` : `${path}["${key}"]`;
      subsetDiff(value, (have as Record<string, unknown>)[key], next, out);
    }
    return;
  }
  if (want !== undefined && String(want) !== String(have)) out.push(path);
}
