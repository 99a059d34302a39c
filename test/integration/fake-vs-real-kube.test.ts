import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createClusterClient, FIELD_MANAGER, type ClusterClient } from '../../src/adapters/kubernetes/index.js';
import { KubernetesApplyError } from '../../src/adapters/kubernetes/errors.js';
import { parseKubeconfig } from '../../src/domain/kubeconfig.js';
import { renderSolution } from '../../src/domain/manifests/render-solution.js';
import { loadFixtureSolution } from '../support/fixture-solutions.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { attachControlPlane, realKubeUnavailable, type ControlPlane } from '../support/real-kube.js';

/**
 * Keeps the fake API server (test/support/fake-kube, a test double) honest: the same sequence of
 * calls Slipway makes — apply in waves, read the state back, node ports, an invalid object, a
 * missing object, label deletion, namespace deletion — sent through Slipway's own client to the
 * fake and to the real kube-apiserver, and what Slipway reads compared: outcomes, HTTP statuses
 * and the fields it uses. What the fake does not model (RBAC, admission, GOAWAY) is tested against
 * the real one alone (real-kube-deploy.test.ts).
 */
const unavailable = realKubeUnavailable();
if (unavailable && process.env.CI === 'true') throw new Error(`CI=true but the real control plane cannot run: ${unavailable}`);

interface Observed {
  applied: number;
  deployments: string[];
  services: string[];
  claims: string[];
  nodePorts: Record<string, string[]>;
  serviceTypes: string[];
  labels: Record<string, string | undefined>;
  invalid: { status: number | undefined; mentions: boolean };
  invalidValue: { status: number | undefined; mentions: boolean };
  missing: boolean;
  deletedByLabel: number;
  afterDelete: string[];
  namespace: string[];
}

/** Slipway's calls against one cluster, reduced to what Slipway reads of the answers. */
async function observe(client: ClusterClient, namespace: string): Promise<Observed> {
  const rendered = renderSolution(loadFixtureSolution('sudoku'), { namespace, deploymentId: '7f1c2d3e-0000-4000-8000-000000000001', serviceType: 'NodePort', orchestratorImage: 'registry.example.org/orchestrator:1', sharedFolderSize: '1Gi' });
  const waves = [[rendered.namespaceObject], rendered.persistentVolumeClaims, rendered.services, rendered.deployments].filter((wave) => wave.length > 0);
  const applied = await client.applyWaves(waves, { fieldManager: FIELD_MANAGER, concurrency: 8 });
  const state = await client.readState(namespace, 'app.kubernetes.io/managed-by=slipway');
  const nodePorts = await client.getServiceNodePorts(namespace);
  const invalid = await client
    .applyWaves([[{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'Not_A_Valid_Name', namespace }, spec: { ports: [{ port: 1 }] } } as KubernetesObject]], { fieldManager: FIELD_MANAGER, concurrency: 1 })
    .then(() => ({ status: undefined, mentions: false }), (error: unknown) => ({
      status: error instanceof KubernetesApplyError ? error.httpStatus : -1,
      mentions: error instanceof Error && error.message.includes('Not_A_Valid_Name'),
    }));
  const invalidValue = await client
    .applyWaves([[{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'bad-port', namespace }, spec: { ports: [{ port: 70000 }] } } as KubernetesObject]], { fieldManager: FIELD_MANAGER, concurrency: 1 })
    .then(() => ({ status: undefined, mentions: false }), (error: unknown) => ({
      status: error instanceof KubernetesApplyError ? error.httpStatus : -1,
      mentions: error instanceof Error && error.message.includes('70000'),
    }));
  const missing = (await client.readObject({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name: 'nothing-here' })) === undefined;
  const first = state.deployments[0];
  const deletedByLabel = await client.deleteByLabel(namespace, `app=${first?.metadata?.labels?.app ?? ''}`);
  const afterDelete = (await client.readState(namespace, 'app.kubernetes.io/managed-by=slipway')).deployments.filter((d) => !d.metadata?.deletionTimestamp).map((d) => d.metadata?.name ?? '').sort();
  const deletion = await client.deleteNamespace(namespace);
  const phase = await client.namespacePhase(namespace);
  return {
    applied: applied.applied,
    deployments: state.deployments.map((d) => d.metadata?.name ?? '').sort(),
    services: state.services.map((s) => s.metadata?.name ?? '').sort(),
    claims: state.pvcs.map((c) => c.metadata?.name ?? '').sort(),
    nodePorts: Object.fromEntries([...nodePorts].map(([service, ports]) => [service, Object.keys(ports).sort()]).sort()),
    serviceTypes: [...new Set(state.services.map((s) => s.spec?.type ?? ''))],
    labels: { managedBy: first?.metadata?.labels?.['app.kubernetes.io/managed-by'], deploymentId: first?.metadata?.labels?.['slipway.io/deployment-id'] },
    invalid,
    invalidValue,
    missing,
    deletedByLabel,
    afterDelete,
    namespace: [deletion, phase],
  };
}

describe.runIf(!unavailable)('the fake API server agrees with the real kube-apiserver on what Slipway reads', () => {
  let plane: ControlPlane;
  let fake: FakeKube;

  beforeAll(async () => {
    plane = await attachControlPlane(inject('realKubeDir'));
    fake = await startFakeKube({ nodes: [{ name: 'node-1', internalIP: '127.0.0.1' }] });
  }, 600_000);

  afterAll(async () => {
    await fake?.close();
  }, 120_000);

  it('the same calls give the same outcomes, statuses and fields', async () => {
    const real = createClusterClient(parseKubeconfig(plane.kubeconfig, { allowInsecure: false }));
    const double = createClusterClient(parseKubeconfig(fake.kubeconfig, { allowInsecure: false }));
    try {
      const [fromReal, fromFake] = [await observe(real, 'differential'), await observe(double, 'differential')];
      expect(fromReal.deployments.length).toBeGreaterThan(1);
      expect(fromReal.invalid.status).toBe(400);
      expect(fromReal.invalidValue).toEqual({ status: 422, mentions: true });
      // A namespace with objects in it is finalised by the namespace controller: `deleting`, then Terminating.
      expect(fromReal.namespace[0]).toBe('deleting');
      expect(fromFake).toEqual(fromReal);
    } finally {
      real.close();
      double.close();
    }
  }, 120_000);
});
