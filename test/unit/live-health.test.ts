import type { V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { liveHealth, liveSync, subsetDiff } from '../../src/domain/health/live.js';
import type { ClusterState } from '../../src/domain/health/types.js';

const NOW = '2026-12-04T12:00:00.000Z';
const labels = { app: 'echo', 'slipway.io/deployment-id': 'd1' };

const desiredDeployment: V1Deployment = {
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'echo', labels },
  spec: { replicas: 1, selector: { matchLabels: { app: 'echo' } }, template: { metadata: { labels }, spec: { containers: [{ name: 'echo', image: 'registry.example.org/echo:1', ports: [{ containerPort: 8061 }] }] } } },
};
const desiredService: V1Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', labels }, spec: { type: 'NodePort', selector: { app: 'echo' }, ports: [{ name: 'protobuf-api', port: 8556, targetPort: 8061 }] } };
const desired = { deployments: [desiredDeployment], services: [desiredService], persistentVolumeClaims: [] };

/** What the API server holds after applying `desired`: defaults and status added. */
function liveDeployment(change: (d: V1Deployment) => void = () => undefined): V1Deployment {
  const d = structuredClone(desiredDeployment);
  d.metadata = { ...d.metadata, generation: 1, uid: 'u1', resourceVersion: '7' };
  d.spec!.template.spec!.containers[0] = { ...d.spec!.template.spec!.containers[0]!, imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log' };
  d.spec!.strategy = { type: 'RollingUpdate' };
  d.status = { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1, conditions: [{ type: 'Available', status: 'True' }] };
  change(d);
  return d;
}
function liveService(): V1Service {
  const s = structuredClone(desiredService);
  s.spec = { ...s.spec, clusterIP: '10.96.0.10', ports: [{ ...s.spec!.ports![0]!, protocol: 'TCP', nodePort: 30123 }] };
  return s;
}
const readyPod: V1Pod = { metadata: { name: 'echo-1', labels: { app: 'echo' } }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'echo', ready: true, restartCount: 0, image: 'x', imageID: 'x' }] } };
const state = (over: Partial<ClusterState> = {}): ClusterState => ({ deployments: [liveDeployment()], services: [liveService()], pvcs: [], pods: [readyPod], events: [], ...over });

describe('liveHealth and liveSync', () => {
  it('as deployed: healthy and synced, whatever the server added', () => {
    expect(liveHealth(desired, state(), NOW)).toMatchObject({ status: 'healthy', objects: [{ kind: 'Service', status: 'healthy' }, { kind: 'Deployment', status: 'healthy' }] });
    expect(liveSync(desired, state(), NOW)).toEqual({ status: 'synced', differences: [], checkedAt: NOW });
  });

  it('a deleted Service is missing (health and sync)', () => {
    const s = state({ services: [] });
    expect(liveHealth(desired, s, NOW).status).toBe('missing');
    expect(liveSync(desired, s, NOW).differences).toEqual([{ kind: 'Service', name: 'echo', change: 'missing', fields: [] }]);
  });

  it('scaled to zero: degraded with the reason, and spec.replicas modified', () => {
    const s = state({ deployments: [liveDeployment((d) => { d.spec!.replicas = 0; })], pods: [] });
    expect(liveHealth(desired, s, NOW).objects.find((o) => o.kind === 'Deployment')).toEqual({ kind: 'Deployment', name: 'echo', status: 'degraded', reason: 'scaled to 0 of 1 replica(s)' });
    expect(liveSync(desired, s, NOW).differences).toEqual([{ kind: 'Deployment', name: 'echo', change: 'modified', fields: ['spec.replicas'] }]);
  });

  it('an image changed by hand: modified at the container image; a rollout under way is progressing, not degraded', () => {
    const s = state({ deployments: [liveDeployment((d) => {
      d.spec!.template.spec!.containers[0]!.image = 'registry.example.org/echo:2';
      d.metadata!.generation = 2;
      d.status = { ...d.status, updatedReplicas: 0, readyReplicas: 1, availableReplicas: 1 };
    })] });
    expect(liveSync(desired, s, NOW).differences).toEqual([{ kind: 'Deployment', name: 'echo', change: 'modified', fields: ['spec.template.spec.containers[0].image'] }]);
    expect(liveHealth(desired, s, NOW).objects.find((o) => o.kind === 'Deployment')?.status).toBe('progressing');
  });

  it('a Pod that stops being Ready after success is degraded', () => {
    const notReady: V1Pod = { ...readyPod, status: { ...readyPod.status, conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: [{ name: 'echo', ready: false, restartCount: 3, image: 'x', imageID: 'x', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off' } } }] } };
    const s = state({ deployments: [liveDeployment((d) => { d.status = { ...d.status, readyReplicas: 0, availableReplicas: 0 }; })], pods: [notReady] });
    const health = liveHealth(desired, s, NOW);
    expect(health.status).toBe('degraded');
    expect(health.reason).toContain('Deployment/echo');
  });

  it('subsetDiff: only what the wanted object sets counts; arrays by position and length', () => {
    const out: string[] = [];
    subsetDiff({ a: 1, b: { c: 'x' }, l: [1, 2] }, { a: 1, b: { c: 'x', extra: true }, l: [1, 2], more: 3 }, '', out);
    expect(out).toEqual([]);
    subsetDiff({ a: 1, l: [1, 2], m: { 'dotted.key': 'v' } }, { a: 2, l: [1], m: { 'dotted.key': 'w' } }, '', out);
    expect(out).toEqual(['a', 'l', 'm["dotted.key"]']);
  });
});
