import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createClusterClient, FIELD_MANAGER, type ClusterClient } from '../../src/adapters/kubernetes/index.js';
import { CAPI_API_VERSIONS, clusterApiSpecFromPlan, renderClusterApi, type ClusterApiOptions } from '../../src/domain/bootstrap/cluster-api.js';
import type { BootstrapHost } from '../../src/domain/bootstrap/hosts.js';
import { planBootstrap, type BootstrapRequest } from '../../src/domain/bootstrap/request.js';
import { parseKubeconfig } from '../../src/domain/kubeconfig.js';
import { objectsToYaml } from '../../src/domain/manifests/yaml.js';
import { runClusterApiBootstrap, type ClusterApiBootstrapSettings } from '../../src/services/bootstrap/capi-engine.js';
import { installCapiCrds, type CapiCrd } from '../support/capi-crds.js';
import { hostBody, TEST_IMAGE, waitForJob } from '../support/cluster-helpers.js';
import { startFakeIronic, type FakeIronic } from '../support/ironic/fake-ironic.js';
import { attachControlPlane, realKubeUnavailable, type ControlPlane } from '../support/real-kube.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { RecordingReporter, SITE_A } from '../support/bootstrap-reporter.js';

/**
 * The cluster-api engine against the real Kubernetes control plane of the test run
 * (test/support/real-kube.ts) with the real CustomResourceDefinitions of Cluster API v1.7.0, its
 * kubeadm providers, Metal3 CAPM3 v1.7.0 and BareMetal Operator v0.6.0 installed
 * (test/support/capi-crds.ts, from the Go modules pinned in tools/kube/capi). The apiserver judges
 * every object Slipway renders against the CRDs' structural schemas. No Cluster API controller
 * or webhook runs: the test plays Cluster API — it writes the Cluster's status through the status
 * subresource and the `<cluster>-kubeconfig` Secret, the way the CAPI controllers do — and the
 * run's own control plane stands in for the new cluster (its kube config is the Secret's).
 */

const unavailable = realKubeUnavailable();
if (unavailable && process.env.CI === 'true') throw new Error(`CI=true but the real control plane cannot run: ${unavailable}`);
if (unavailable) console.warn(`Skipping the real-control-plane tests: ${unavailable}`);

type Json = Record<string, unknown>;
type Stored = KubernetesObject & { spec?: Json; status?: Json };

const FAST_RETRY = { baseDelayMs: 20, maxDelayMs: 200, attempts: 5 };
const HOSTS: BootstrapHost[] = [
  { name: 'cp-1', address: '10.10.0.11', role: 'control-plane' },
  { name: 'node-1', address: '10.10.0.21', role: 'compute' },
];
const KINDS = ['BareMetalHost', 'Cluster', 'KubeadmConfigTemplate', 'KubeadmControlPlane', 'MachineDeployment', 'Metal3Cluster', 'Metal3MachineTemplate'];
/** What the CRDs' schemas default on objects Slipway renders (`default:` in the pinned CRDs). */
const SCHEMA_DEFAULTS: Record<string, string[]> = {
  Metal3MachineTemplate: ['spec.nodeReuse=false'],
  KubeadmControlPlane: ['spec.rolloutStrategy={"rollingUpdate":{"maxSurge":1},"type":"RollingUpdate"}'],
};


const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every leaf of `sent` that `stored` does not hold with the same value (a pruned or changed field), by path. */
function lostFields(sent: unknown, stored: unknown, at: string): string[] {
  if (isObject(sent)) {
    if (!isObject(stored)) return [`${at}: an object became ${JSON.stringify(stored)}`];
    return Object.entries(sent).flatMap(([key, value]) => (key in stored ? lostFields(value, stored[key], `${at}.${key}`) : [`${at}.${key} is gone`]));
  }
  if (Array.isArray(sent)) {
    if (!Array.isArray(stored) || stored.length !== sent.length) return [`${at}: ${JSON.stringify(sent)} became ${JSON.stringify(stored)}`];
    return sent.flatMap((value, i) => lostFields(value, stored[i], `${at}[${i}]`));
  }
  return Object.is(sent, stored) ? [] : [`${at}: ${JSON.stringify(sent)} became ${JSON.stringify(stored)}`];
}

/** Fields `stored` has that `sent` did not (what the apiserver defaulted), as `path=value`. */
function addedFields(sent: unknown, stored: unknown, at: string): string[] {
  if (!isObject(sent) || !isObject(stored)) return [];
  return Object.entries(stored).flatMap(([key, value]) => (key in sent ? addedFields(sent[key], value, `${at}.${key}`) : [`${at}.${key}=${JSON.stringify(value)}`]));
}

function condition(type: string, status: 'True' | 'False', reason?: string): Json {
  return { type, status, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), ...(status === 'False' ? { severity: 'Info' } : {}), ...(reason ? { reason } : {}) };
}

async function waitFor<T>(what: string, read: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`waitFor: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.runIf(!unavailable)('Cluster API objects judged by the real apiserver and the real Cluster API / Metal3 CRDs', () => {
  let plane: ControlPlane;
  let client: ClusterClient;
  let crds: CapiCrd[];
  const suffix = randomBytes(3).toString('hex');
  const namespace = `capi-real-${suffix}`;
  const namespaces = [namespace];
  /** `<plural>.<group>` of a kind: what kubectl is asked for (no short name can be ambiguous). */
  const resource = (kind: string): string => {
    const crd = crds.find((c) => c.kind === kind);
    if (!crd) throw new Error(`no CRD for ${kind}`);
    return `${crd.plural}.${crd.group}`;
  };
  const kubectlJson = async <T>(args: readonly string[], input?: string): Promise<T> => JSON.parse(await plane.kubectl([...args, '-o', 'json'], input)) as T;
  const stored = (kind: string, ns: string, name: string): Promise<Stored> => kubectlJson<Stored>(['get', resource(kind), name, '-n', ns, '--show-managed-fields']);
  const present = async (kind: string, ns: string, name: string): Promise<Stored | undefined> => stored(kind, ns, name).catch(() => undefined);

  /** The Cluster API controllers' part: the Cluster's status, written through its status subresource. */
  const writeClusterStatus = (ns: string, name: string, status: Json): Promise<string> =>
    plane.kubectl(['patch', resource('Cluster'), name, '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);

  /** The kube config Secret as Cluster API writes it: type cluster.x-k8s.io/secret, key `value`, owned by the control plane. */
  async function writeKubeconfigSecret(ns: string, cluster: string): Promise<void> {
    const kcp = await stored('KubeadmControlPlane', ns, `${cluster}-controlplane`);
    const secret = {
      apiVersion: 'v1', kind: 'Secret', type: 'cluster.x-k8s.io/secret',
      metadata: {
        name: `${cluster}-kubeconfig`, namespace: ns, labels: { 'cluster.x-k8s.io/cluster-name': cluster },
        ownerReferences: [{ apiVersion: CAPI_API_VERSIONS.controlPlane, kind: 'KubeadmControlPlane', name: kcp.metadata?.name, uid: kcp.metadata?.uid, controller: true, blockOwnerDeletion: true }],
      },
      data: { value: Buffer.from(plane.kubeconfig).toString('base64') },
    };
    await plane.kubectl(['apply', '--server-side', '--field-manager', 'capi-stand-in', '-f', '-'], JSON.stringify(secret));
  }

  /** Provisioned, infrastructure and control plane ready: the v1beta1 status a finished Cluster has. */
  const readyStatus = (): Json => ({
    phase: 'Provisioned', infrastructureReady: true, controlPlaneReady: true, observedGeneration: 1,
    conditions: [condition('Ready', 'True'), condition('ControlPlaneReady', 'True'), condition('InfrastructureReady', 'True')],
  });

  beforeAll(async () => {
    plane = await attachControlPlane(inject('realKubeDir'));
    crds = await installCapiCrds(plane);
    await plane.kubectl(['create', 'namespace', namespace]);
    client = createClusterClient(parseKubeconfig(plane.kubeconfig, { allowInsecure: false }), { retry: FAST_RETRY, requestTimeoutMs: 15_000 });
  }, 300_000);

  afterAll(async () => {
    client?.close();
    for (const ns of namespaces) await plane?.kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']).catch(() => undefined);
  }, 60_000);

  it('installs the pinned CRDs: Established, served in the versions Slipway renders, no conversion webhook; a second install changes nothing', async () => {
    expect(crds.map((c) => c.kind).sort()).toEqual(KINDS);
    const rendered: Record<string, string> = {
      Cluster: CAPI_API_VERSIONS.cluster, MachineDeployment: CAPI_API_VERSIONS.cluster, KubeadmControlPlane: CAPI_API_VERSIONS.controlPlane,
      KubeadmConfigTemplate: CAPI_API_VERSIONS.bootstrap, Metal3Cluster: CAPI_API_VERSIONS.infrastructure, Metal3MachineTemplate: CAPI_API_VERSIONS.infrastructure,
      BareMetalHost: 'metal3.io/v1alpha1',
    };
    const names = crds.map((c) => `customresourcedefinition/${c.name}`);
    const before = (await kubectlJson<{ items: Array<{ metadata: { name: string; resourceVersion: string; labels?: Record<string, string> }; spec: { group: string; names: { kind: string }; conversion?: { strategy: string }; versions: Array<{ name: string; served: boolean; storage: boolean }> }; status: { conditions: Array<{ type: string; status: string }>; storedVersions: string[] } }> }>(['get', ...names])).items;
    for (const crd of before) {
      const kind = crd.spec.names.kind;
      expect(crd.status.conditions.find((c) => c.type === 'Established')?.status, kind).toBe('True');
      // One served version each (older ones are listed with served: false), stored as served: no conversion ever runs.
      expect(crd.spec.versions.filter((v) => v.served).map((v) => `${crd.spec.group}/${v.name}`), kind).toEqual([rendered[kind]]);
      expect(crd.status.storedVersions.map((v) => `${crd.spec.group}/${v}`), kind).toEqual([rendered[kind]]);
      expect(crd.spec.conversion?.strategy ?? 'None', kind).toBe('None');
      // The providers' contract label (their kustomizations add it; CAPI reads it), not on core or BMO CRDs.
      expect(crd.metadata.labels?.['cluster.x-k8s.io/v1beta1'], kind).toBe(['Cluster', 'MachineDeployment', 'BareMetalHost'].includes(kind) ? undefined : 'v1beta1');
    }
    await installCapiCrds(plane);
    const after = (await kubectlJson<{ items: Array<{ metadata: { name: string; resourceVersion: string } }> }>(['get', ...names])).items;
    expect(after.map((c) => `${c.metadata.name}@${c.metadata.resourceVersion}`)).toEqual(before.map((c) => `${c.metadata.name}@${c.metadata.resourceVersion}`));
  });

  const FULL_REQUEST: BootstrapRequest = { name: 'edge-a', kubernetesVersion: 'v1.29.3', podSubnet: '10.233.64.0/18', serviceSubnet: '10.233.0.0/18', addons: [], engine: 'cluster-api' };
  const FULL_OPTIONS: ClusterApiOptions = {
    namespace,
    controlPlaneEndpoint: { host: '10.10.0.100' },
    image: { url: 'http://images.example/ubuntu-22.04.qcow2', checksum: 'http://images.example/ubuntu-22.04.qcow2.sha256sum', checksumType: 'sha256', format: 'qcow2' },
    sshAuthorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnly slipway@example', 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQExample second@example'],
    jobId: '5f0c2d8e-3b7a-4c1e-9f21-0a6b7c8d9e10',
  };
  const VARIANTS: Array<[string, BootstrapHost[], BootstrapRequest, ClusterApiOptions]> = [
    ['three control-plane machines, three workers, SSH keys, a checksum URL', SITE_A, FULL_REQUEST, FULL_OPTIONS],
    [
      'one host, no worker: the control plane untainted (taints: []), zero workers, a DNS endpoint, a raw image with a hex sha512',
      [{ name: 'solo', address: '192.168.50.10', role: 'compute' }],
      { name: 'solo', kubernetesVersion: 'v1.30.1', podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', addons: [], engine: 'cluster-api' },
      { namespace, controlPlaneEndpoint: { host: 'api.solo.example', port: 16443 }, image: { url: 'https://images.example/solo.img', checksum: 'a'.repeat(128), checksumType: 'sha512' } },
    ],
  ];

  it.each(VARIANTS)('the rendered objects (%s) pass strict field validation, and the apiserver would store every field as sent', async (_what, hosts, bootstrapRequest, options) => {
    const rendered = renderClusterApi(clusterApiSpecFromPlan(planBootstrap(bootstrapRequest, hosts), options));
    // --validate=strict: an unknown or duplicate field is an error naming it (not a warning, not pruned).
    const result = await kubectlJson<{ items: Stored[] }>(['apply', '--server-side', '--dry-run=server', '--validate=strict', '--field-manager', FIELD_MANAGER, '-f', '-'], objectsToYaml(rendered.objects));
    expect(result.items.map((o) => o.kind)).toEqual(rendered.objects.map((o) => o.kind));
    rendered.objects.forEach((sent, i) => {
      const back = result.items[i] as Stored;
      const name = `${sent.kind}/${sent.metadata?.name}`;
      expect(lostFields((sent as Stored).spec, back.spec, 'spec'), name).toEqual([]);
      expect(lostFields(sent.metadata?.labels, back.metadata?.labels, 'metadata.labels'), name).toEqual([]);
      expect(addedFields((sent as Stored).spec, back.spec, 'spec'), name).toEqual(SCHEMA_DEFAULTS[sent.kind ?? ''] ?? []);
    });
  });

  it('the real schemas are enforced: an unknown field, a wrong enum value and a wrong type are refused, each named', async () => {
    const rendered = renderClusterApi(clusterApiSpecFromPlan(planBootstrap(FULL_REQUEST, SITE_A), FULL_OPTIONS));
    const byKind = (kind: string) => structuredClone(rendered.objects.find((o) => o.kind === kind)) as Stored & { spec: Json };
    const unknown = byKind('Metal3Cluster');
    unknown.metadata = { ...unknown.metadata, name: `bad-field-${suffix}` };
    unknown.spec.noCloudProviders = true;
    const badEnum = byKind('Metal3MachineTemplate');
    badEnum.metadata = { ...badEnum.metadata, name: `bad-enum-${suffix}` };
    ((badEnum.spec.template as Json).spec as Json).automatedCleaningMode = 'always';
    const badType = byKind('KubeadmControlPlane');
    badType.metadata = { ...badType.metadata, name: `bad-type-${suffix}` };
    badType.spec.replicas = '3';
    const refusal = async (object: KubernetesObject): Promise<string> => {
      const error = await client.applyWaves([[object]], { fieldManager: FIELD_MANAGER, concurrency: 1 }).then(() => undefined, (e: unknown) => e);
      expect(error, `${object.kind} was accepted`).toBeInstanceOf(Error);
      return (error as Error).message;
    };
    // Server-side apply answers an undeclared field or a wrong type with HTTP 500 ("failed to create
    // typed patch object", kubernetes/kubernetes#139253); Slipway's client takes that 500 for the
    // refusal it is (retry.ts), not for a server in trouble: one attempt, the field named. An enum
    // is checked by the schema validation after it: 422.
    const unknownRefused = await refusal(unknown);
    expect(unknownRefused).toMatch(/HTTP (500|400)\b.*: \.spec\.noCloudProviders: field not declared in schema$/);
    expect(unknownRefused).not.toMatch(/attempt/);
    expect(await refusal(badEnum)).toMatch(/\(HTTP 422\): .*spec\.template\.spec\.automatedCleaningMode: Unsupported value: "always": supported values: "metadata", "disabled"$/);
    const badTypeRefused = await refusal(badType);
    expect(badTypeRefused).toMatch(/HTTP (500|400)\b.*: \.spec\.replicas: expected numeric \(int or float\), got string$/);
    expect(badTypeRefused).not.toMatch(/attempt/);
    for (const object of [unknown, badEnum, badType]) expect(await present(object.kind ?? '', namespace, object.metadata?.name ?? ''), object.kind).toBeUndefined();
  });

  it('runClusterApiBootstrap: the real apiserver creates every object as rendered; the test plays Cluster API; the engine returns its kube config', async () => {
    const cluster = `edge-${suffix}`;
    const bootstrapRequest: BootstrapRequest = { name: cluster, kubernetesVersion: 'v1.29.3', podSubnet: '192.168.0.0/18', serviceSubnet: '10.96.0.0/12', addons: [], engine: 'cluster-api' };
    const settings: ClusterApiBootstrapSettings = {
      jobId: '00000000-0000-4000-8000-00000000c0de',
      namespace,
      controlPlaneEndpoint: { host: '10.10.0.11' },
      image: { url: 'http://images.example/ubuntu.qcow2', checksum: 'c'.repeat(64), checksumType: 'sha256', format: 'qcow2' },
      sshAuthorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnly slipway@example'],
      kubeconfig: { allowInsecure: false },
      timeoutMs: 60_000,
      pollMs: 50,
    };
    const reporter = new RecordingReporter();
    const running = runClusterApiBootstrap(client, bootstrapRequest, HOSTS, reporter, settings);
    running.catch(() => undefined);

    // Each status is written once the engine reported the previous one, so every state is seen.
    await waitFor('the Pending event', () => reporter.events.find((e) => e.message.includes(': Pending;')));
    await writeClusterStatus(namespace, cluster, { phase: 'Provisioning', conditions: [condition('InfrastructureReady', 'False', 'WaitingForHosts')] });
    await waitFor('the Provisioning event', () => reporter.events.find((e) => e.message.includes('Provisioning')));
    await writeClusterStatus(namespace, cluster, { phase: 'Provisioned', infrastructureReady: true, conditions: [condition('InfrastructureReady', 'True'), condition('ControlPlaneReady', 'False', 'WaitingForControlPlane')] });
    await waitFor('the WaitingForControlPlane event', () => reporter.events.find((e) => e.message.includes('WaitingForControlPlane')));
    await writeKubeconfigSecret(namespace, cluster);
    await writeClusterStatus(namespace, cluster, readyStatus());

    const result = await running;
    expect(result.kubeconfig.server).toBe(plane.server);
    expect(result.cluster).toBe(cluster);
    expect(reporter.steps.map((step) => `${step.name}:${step.status}`)).toEqual(['plan cluster:succeeded', 'apply cluster objects:succeeded', 'wait for cluster:succeeded', 'read kube config:succeeded']);
    expect(reporter.events.filter((e) => e.type === 'bootstrap.cluster').map((e) => e.message)).toEqual([
      `Cluster ${cluster}: Pending; waiting for phase Pending (waiting for Provisioned), InfrastructureReady, ControlPlaneReady`,
      `Cluster ${cluster}: Provisioning; waiting for phase Provisioning (waiting for Provisioned), InfrastructureReady (WaitingForHosts), ControlPlaneReady`,
      `Cluster ${cluster}: Provisioned; waiting for ControlPlaneReady (WaitingForControlPlane)`,
      `Cluster ${cluster}: Provisioned, control plane ready`,
    ]);

    // Every object read back with kubectl: what the renderer set is stored exactly (nothing pruned).
    const rendered = renderClusterApi(clusterApiSpecFromPlan(planBootstrap(bootstrapRequest, HOSTS), { namespace, controlPlaneEndpoint: settings.controlPlaneEndpoint, image: settings.image, sshAuthorizedKeys: settings.sshAuthorizedKeys, jobId: settings.jobId }));
    const versions: string[] = [];
    for (const sent of rendered.objects as Stored[]) {
      const back = await stored(sent.kind ?? '', namespace, sent.metadata?.name ?? '');
      const name = `${sent.kind}/${sent.metadata?.name}`;
      expect(back.apiVersion, name).toBe(sent.apiVersion);
      expect(lostFields(sent.spec, back.spec, 'spec'), name).toEqual([]);
      expect(lostFields(sent.metadata?.labels, back.metadata?.labels, 'metadata.labels'), name).toEqual([]);
      expect(addedFields(sent.spec, back.spec, 'spec'), name).toEqual(SCHEMA_DEFAULTS[sent.kind ?? ''] ?? []);
      expect(back.metadata?.managedFields?.map((m) => `${m.manager}:${m.operation}`), name).toContain(`${FIELD_MANAGER}:Apply`);
      versions.push(`${name}@${back.metadata?.resourceVersion}`);
    }
    // The status the stand-in wrote went through the status subresource and was kept whole.
    const status = (await stored('Cluster', namespace, cluster)).status ?? {};
    expect(lostFields(readyStatus(), status, 'status').filter((p) => !p.includes('lastTransitionTime'))).toEqual([]);

    // Run again: the same objects, applied again, change nothing (not even the status), and the engine is done at once.
    const again = await runClusterApiBootstrap(client, bootstrapRequest, HOSTS, new RecordingReporter(), settings);
    expect(again.kubeconfig.server).toBe(plane.server);
    const after: string[] = [];
    for (const sent of rendered.objects) after.push(`${sent.kind}/${sent.metadata?.name}@${(await stored(sent.kind ?? '', namespace, sent.metadata?.name ?? '')).metadata?.resourceVersion}`);
    expect(after).toEqual(versions);
    expect((await stored('Cluster', namespace, cluster)).status?.phase).toBe('Provisioned');
  });

  it('BareMetalHosts labelled the way the hostSelectors ask are valid BMHs, and each Metal3MachineTemplate selects exactly its pool', async () => {
    const cluster = `hosts-${suffix}`;
    const rendered = renderClusterApi(clusterApiSpecFromPlan(planBootstrap({ ...FULL_REQUEST, name: cluster }, HOSTS), FULL_OPTIONS));
    await client.applyWaves([rendered.objects.filter((o) => o.kind === 'Metal3MachineTemplate')], { fieldManager: FIELD_MANAGER, concurrency: 2 });
    const host = (name: string, role: string, forCluster: string, i: number) => ({
      apiVersion: 'metal3.io/v1alpha1', kind: 'BareMetalHost',
      metadata: { name, namespace, labels: { 'slipway.io/cluster': forCluster, 'slipway.io/cluster-role': role } },
      spec: { online: true, bootMACAddress: `52:54:00:00:08:0${i}`, bootMode: 'UEFI', bmc: { address: `redfish-virtualmedia://192.0.2.${i}/redfish/v1/Systems/1`, credentialsName: `${name}-bmc` }, rootDeviceHints: { deviceName: '/dev/sda' } },
    });
    const hosts = [host('cp-1', 'control-plane', cluster, 1), host('node-1', 'worker', cluster, 2), host('other-1', 'worker', 'other', 3)];
    await plane.kubectl(['apply', '--server-side', '--validate=strict', '--field-manager', 'metal3-stand-in', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: hosts }));
    for (const [template, expected] of [[rendered.names.controlPlaneTemplate, ['cp-1']], [rendered.names.workerTemplate, ['node-1']]] as const) {
      const spec = (await stored('Metal3MachineTemplate', namespace, template)).spec as { template: { spec: { hostSelector: { matchLabels: Record<string, string> } } } };
      const selector = Object.entries(spec.template.spec.hostSelector.matchLabels).map(([k, v]) => `${k}=${v}`).join(',');
      const selected = await kubectlJson<{ items: Stored[] }>(['get', resource('BareMetalHost'), '-n', namespace, '-l', selector]);
      expect(selected.items.map((h) => h.metadata?.name), template).toEqual(expected);
    }
  });

  describe('the bootstrap job through HTTP, engine cluster-api, the real control plane as management cluster', () => {
    let ironic: FakeIronic;
    let stack: TestStack;
    let token: string;
    let dir: string;
    const bootstrapNamespace = `capi-job-${suffix}`;
    const server = () => stack.runtime.app.server;

    beforeAll(async () => {
      namespaces.push(bootstrapNamespace);
      ironic = await startFakeIronic();
      dir = await mkdtemp(path.join(os.tmpdir(), 'slipway-capi-real-'));
      await writeFile(path.join(dir, 'management.kubeconfig'), plane.kubeconfig, { mode: 0o600 });
      stack = await startTestStack({
        IRONIC_URL: ironic.url, IRONIC_POLL_INTERVAL: '100ms',
        BOOTSTRAP_KUBECONFIG: path.join(dir, 'management.kubeconfig'), BOOTSTRAP_NAMESPACE: bootstrapNamespace,
        BOOTSTRAP_POLL_INTERVAL: '100ms', BOOTSTRAP_TIMEOUT: '60s',
      });
      token = await stack.token();
      await request(server()).post('/api/v1/sites').set('authorization', token).send({ name: 'edge' }).expect(201);
      for (const host of [hostBody('cp-1', 1, { role: 'control-plane' }), hostBody('node-1', 2)]) await request(server()).post('/api/v1/sites/edge/hosts').set('authorization', token).send(host).expect(201);
      const provisioning = await request(server()).post('/api/v1/sites/edge/provisioning-jobs').set('authorization', token).send({});
      expect((await waitForJob(stack, token, provisioning.body.id)).status).toBe('succeeded');
    }, 120_000);

    afterAll(async () => {
      await stack?.close();
      await ironic?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('applies the Cluster API objects to the real apiserver, follows the Cluster, reads its kube config and registers the cluster', async () => {
      const name = 'edge-capi';
      const started = await request(server()).post('/api/v1/sites/edge/clusters').set('authorization', token)
        .send({ name, kubernetesVersion: 'v1.29.3', podSubnet: '10.233.64.0/18', serviceSubnet: '10.233.0.0/18', engine: 'cluster-api' });
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      expect(started.body.cluster).toMatchObject({ name, status: 'bootstrapping', engine: 'cluster-api' });
      const jobId = String(started.body.job.id);

      // Cluster API's part, on the real apiserver: once the Cluster exists, its kube config Secret and a ready status.
      const created = await waitFor('the Cluster object', () => present('Cluster', bootstrapNamespace, name), 45_000);
      expect(created.metadata?.labels).toMatchObject({ 'slipway.io/bootstrap-job': jobId, 'cluster.x-k8s.io/cluster-name': name });
      await writeKubeconfigSecret(bootstrapNamespace, name);
      await writeClusterStatus(bootstrapNamespace, name, readyStatus());

      const job = await waitForJob(stack, token, jobId, 90_000);
      expect(job.error).toBeNull();
      expect(job.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['plan cluster:succeeded', 'apply cluster objects:succeeded', 'wait for cluster:succeeded', 'read kube config:succeeded', 'register cluster:succeeded']);
      const registered = await request(server()).get(`/api/v1/clusters/${started.body.cluster.id}`).set('authorization', token);
      expect(registered.body).toMatchObject({ status: 'ready', engine: 'cluster-api', server: plane.server, nodes: [{ name: 'cp-1' }, { name: 'node-1' }] });

      // What the job applied is what the real apiserver stores: the hosts' image and the control-plane host's address.
      const template = await stored('Metal3MachineTemplate', bootstrapNamespace, `${name}-controlplane`);
      expect((template.spec as { template: { spec: { image: unknown } } }).template.spec.image).toEqual({ ...TEST_IMAGE });
      const metal3Cluster = await stored('Metal3Cluster', bootstrapNamespace, name);
      expect(metal3Cluster.spec).toEqual({ controlPlaneEndpoint: { host: '10.20.0.11', port: 6443 }, noCloudProvider: true });
      const applied = (await kubectlJson<{ items: Stored[] }>(['get', KINDS.filter((k) => k !== 'BareMetalHost').map(resource).join(','), '-n', bootstrapNamespace, '-l', `slipway.io/bootstrap-job=${jobId}`])).items;
      expect(applied.map((o) => o.kind).sort()).toEqual(['Cluster', 'KubeadmConfigTemplate', 'KubeadmControlPlane', 'MachineDeployment', 'Metal3Cluster', 'Metal3MachineTemplate', 'Metal3MachineTemplate']);
    }, 120_000);
  });
});
