import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterClient, FIELD_MANAGER, type ClusterClient } from '../../src/adapters/kubernetes/index.js';
import { BootstrapFailedError } from '../../src/domain/bootstrap/errors.js';
import type { BootstrapHost } from '../../src/domain/bootstrap/hosts.js';
import type { BootstrapRequest } from '../../src/domain/bootstrap/request.js';
import { parseKubeconfig } from '../../src/domain/kubeconfig.js';
import { runClusterApiBootstrap, type ClusterApiBootstrapSettings } from '../../src/services/bootstrap/capi-engine.js';
import { startFakeKube, type FakeKube, type KubeObject } from '../support/fake-kube/index.js';
import { RecordingReporter } from '../support/bootstrap-reporter.js';

/**
 * The cluster-api engine against the fake Kubernetes API server (a test double) as management
 * cluster. The Cluster API kinds are registered as custom resources; no controller runs, so the
 * test plays Cluster API: it writes the Cluster's status (phase, conditions) and the
 * `<cluster>-kubeconfig` Secret, the way the CAPI controllers would.
 */

const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20, attempts: 3 };
const HOSTS: BootstrapHost[] = [
  { name: 'cp-1', address: '10.10.0.11', role: 'control-plane' },
  { name: 'node-1', address: '10.10.0.21', role: 'compute' },
];
const CAPI_KINDS = [
  { group: 'cluster.x-k8s.io', kind: 'Cluster', plural: 'clusters' },
  { group: 'cluster.x-k8s.io', kind: 'MachineDeployment', plural: 'machinedeployments' },
  { group: 'controlplane.cluster.x-k8s.io', kind: 'KubeadmControlPlane', plural: 'kubeadmcontrolplanes' },
  { group: 'bootstrap.cluster.x-k8s.io', kind: 'KubeadmConfigTemplate', plural: 'kubeadmconfigtemplates' },
  { group: 'infrastructure.cluster.x-k8s.io', kind: 'Metal3Cluster', plural: 'metal3clusters' },
  { group: 'infrastructure.cluster.x-k8s.io', kind: 'Metal3MachineTemplate', plural: 'metal3machinetemplates' },
];

let fake: FakeKube;
let client: ClusterClient;
let counter = 0;


beforeAll(async () => {
  fake = await startFakeKube();
  for (const { group, kind, plural } of CAPI_KINDS) {
    fake.registerResource({ group, version: 'v1beta1', kind, plural, singular: kind.toLowerCase(), namespaced: true, subresources: ['status'] });
  }
  client = createClusterClient(parseKubeconfig(fake.kubeconfig, { allowInsecure: false }), { retry: FAST_RETRY, requestTimeoutMs: 10_000 });
});

afterAll(async () => {
  client?.close();
  await fake?.close();
});

async function scenario(): Promise<{ namespace: string; cluster: string; request: BootstrapRequest; settings: ClusterApiBootstrapSettings }> {
  counter += 1;
  const namespace = `metal3-${counter}`;
  const cluster = `edge-${counter}`;
  await client.applyWaves([[{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } } as KubernetesObject]], { fieldManager: FIELD_MANAGER, concurrency: 1 });
  return {
    namespace,
    cluster,
    request: { name: cluster, kubernetesVersion: 'v1.29.3', podSubnet: '192.168.0.0/18', serviceSubnet: '10.96.0.0/12', addons: [], engine: 'cluster-api' },
    settings: {
      jobId: `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
      namespace,
      controlPlaneEndpoint: { host: '10.10.0.11' },
      image: { url: 'http://images.example/ubuntu.qcow2', checksum: 'c'.repeat(64), checksumType: 'sha256', format: 'qcow2' },
      kubeconfig: { allowInsecure: false },
      timeoutMs: 20_000,
      pollMs: 20,
    },
  };
}

async function waitFor<T>(read: () => T | undefined): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('waitFor: gave up');
}

/** What the Cluster API controllers would write: a status on the Cluster. */
function setClusterStatus(namespace: string, name: string, status: Record<string, unknown>): void {
  const current = fake.getObject('cluster.x-k8s.io/v1beta1', 'Cluster', namespace, name);
  if (!current) throw new Error('no Cluster to update');
  fake.putObject({ ...current, status });
}

function condition(type: string, status: 'True' | 'False', reason?: string) {
  return { type, status, lastTransitionTime: new Date().toISOString(), ...(reason ? { reason } : {}) };
}

describe('runClusterApiBootstrap', () => {
  it('applies the objects, follows the Cluster to Provisioned with a ready control plane, returns the kube config', async () => {
    const s = await scenario();
    const reporter = new RecordingReporter();
    const running = runClusterApiBootstrap(client, s.request, HOSTS, reporter, s.settings);

    // Each status is written once the engine reported the previous one, so every state is seen.
    await waitFor(() => reporter.events.find((e) => e.message.includes(': Pending;')));
    setClusterStatus(s.namespace, s.cluster, { phase: 'Provisioning', conditions: [condition('InfrastructureReady', 'False', 'WaitingForHosts')] });
    await waitFor(() => reporter.events.find((e) => e.message.includes('Provisioning')));
    setClusterStatus(s.namespace, s.cluster, { phase: 'Provisioned', conditions: [condition('InfrastructureReady', 'True'), condition('ControlPlaneReady', 'False', 'WaitingForControlPlane')] });
    await waitFor(() => reporter.events.find((e) => e.message.includes('WaitingForControlPlane')));
    fake.putObject({
      apiVersion: 'v1', kind: 'Secret',
      metadata: { name: `${s.cluster}-kubeconfig`, namespace: s.namespace, labels: { 'cluster.x-k8s.io/cluster-name': s.cluster } },
      data: { value: Buffer.from(fake.kubeconfig).toString('base64') },
    });
    setClusterStatus(s.namespace, s.cluster, { phase: 'Provisioned', conditions: [condition('InfrastructureReady', 'True'), condition('ControlPlaneReady', 'True')] });

    const result = await running;
    expect(result.kubeconfig.server).toBe(fake.url);
    expect(result.cluster).toBe(s.cluster);
    expect(reporter.steps.map((step) => `${step.name}:${step.status}`)).toEqual(['plan cluster:succeeded', 'apply cluster objects:succeeded', 'wait for cluster:succeeded', 'read kube config:succeeded']);
    expect(reporter.events.filter((e) => e.type === 'bootstrap.cluster').map((e) => e.message)).toEqual([
      `Cluster ${s.cluster}: Pending; waiting for phase Pending (waiting for Provisioned), InfrastructureReady, ControlPlaneReady`,
      `Cluster ${s.cluster}: Provisioning; waiting for phase Provisioning (waiting for Provisioned), InfrastructureReady (WaitingForHosts), ControlPlaneReady`,
      `Cluster ${s.cluster}: Provisioned; waiting for ControlPlaneReady (WaitingForControlPlane)`,
      `Cluster ${s.cluster}: Provisioned, control plane ready`,
    ]);
    const applied = fake.listObjects().filter((o) => o.metadata.namespace === s.namespace && o.apiVersion.includes('cluster.x-k8s.io'));
    expect(applied.map((o) => o.kind).sort()).toEqual(['Cluster', 'KubeadmConfigTemplate', 'KubeadmControlPlane', 'MachineDeployment', 'Metal3Cluster', 'Metal3MachineTemplate', 'Metal3MachineTemplate']);
    const kcp = applied.find((o) => o.kind === 'KubeadmControlPlane') as KubeObject & { spec: { replicas: number } };
    expect(kcp.spec.replicas).toBe(1);
  });

  it('a Cluster that Cluster API marks Failed fails the bootstrap with its message', async () => {
    const s = await scenario();
    const running = runClusterApiBootstrap(client, s.request, HOSTS, new RecordingReporter(), s.settings);
    await waitFor(() => fake.getObject('cluster.x-k8s.io/v1beta1', 'Cluster', s.namespace, s.cluster));
    setClusterStatus(s.namespace, s.cluster, { phase: 'Failed', failureReason: 'InvalidConfiguration', failureMessage: 'no BareMetalHost matches the hostSelector' });
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BootstrapFailedError);
    expect((error as BootstrapFailedError).reason).toBe('cluster_failed');
    expect((error as BootstrapFailedError).message).toBe(`Cluster API reports cluster ${s.cluster} as failed: no BareMetalHost matches the hostSelector`);
  });

  it('a Cluster deleted while provisioning fails the bootstrap', async () => {
    const s = await scenario();
    const running = runClusterApiBootstrap(client, s.request, HOSTS, new RecordingReporter(), s.settings);
    await waitFor(() => fake.getObject('cluster.x-k8s.io/v1beta1', 'Cluster', s.namespace, s.cluster));
    fake.deleteObject('cluster.x-k8s.io/v1beta1', 'Cluster', s.namespace, s.cluster);
    const error = await running.catch((e: unknown) => e);
    expect((error as BootstrapFailedError).reason).toBe('cluster_deleted');
  });
});
