import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startFakeKube, type FakeKube, type KubeObject } from '../support/fake-kube/index.js';
import { startFakeIronic, type FakeIronic } from '../support/ironic/fake-ironic.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { waitForDeployment } from '../support/deploy-helpers.js';
import { hostBody, jobEvents, waitForJob, writeEchoModel } from '../support/cluster-helpers.js';
import { ROLLOUT_JOB_HEADER } from '../../src/http/clusters/package-routes.js';

/**
 * Bootstrap and scale-out jobs through HTTP: hosts provisioned through the Ironic double, the
 * KUD installer run as a Job on the fake Kubernetes API server (a test double, here both the
 * bootstrap cluster and — through the kube config the "installer" writes — the new cluster). As
 * the installer would, the test's `onJobComplete` hook writes `<cluster>-admin-conf`.
 */
let kube: FakeKube;
let ironic: FakeIronic;
let stack: TestStack;
let token: string;
let dir: string;
const noSecret = new Set<string>();
const server = () => stack.runtime.app.server;
const REQUEST = { kubernetesVersion: 'v1.29.3', podSubnet: '10.233.64.0/18', serviceSubnet: '10.233.0.0/18', addons: ['multus'] };

beforeAll(async () => {
  kube = await startFakeKube({ nodes: [{ name: 'cp-1' }, { name: 'node-1' }, { name: 'node-2' }] });
  for (const kind of ['Role', 'RoleBinding']) {
    kube.registerResource({ group: 'rbac.authorization.k8s.io', version: 'v1', kind, plural: `${kind.toLowerCase()}s`, singular: kind.toLowerCase(), namespaced: true });
  }
  kube.onJobComplete((job: KubeObject, fake) => {
    const cluster = job.metadata.labels?.['slipway.io/cluster'];
    if (job.metadata.labels?.['app.kubernetes.io/component'] !== 'kud-installer' || cluster === undefined || noSecret.has(cluster)) return;
    fake.putObject({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `${cluster}-admin-conf`, namespace: job.metadata.namespace }, data: { 'admin.conf': Buffer.from(fake.kubeconfig).toString('base64') } });
  });
  ironic = await startFakeIronic();
  dir = await mkdtemp(path.join(os.tmpdir(), 'slipway-bootstrap-'));
  await writeFile(path.join(dir, 'bootstrap.kubeconfig'), kube.kubeconfig, { mode: 0o600 });
  stack = await startTestStack({
    IRONIC_URL: ironic.url, IRONIC_POLL_INTERVAL: '100ms',
    BOOTSTRAP_KUBECONFIG: path.join(dir, 'bootstrap.kubeconfig'), BOOTSTRAP_POLL_INTERVAL: '50ms', BOOTSTRAP_TIMEOUT: '30s',
  });
  token = await stack.token();
  await request(server()).post('/api/v1/sites').set('authorization', token).send({ name: 'edge' }).expect(201);
  const hosts = [hostBody('cp-1', 1, { role: 'control-plane' }), hostBody('node-1', 2), hostBody('node-2', 3), hostBody('node-x', 4, { ip: null, labels: { 'slipway.io/cluster': 'other' } })];
  for (const host of hosts) await request(server()).post('/api/v1/sites/edge/hosts').set('authorization', token).send(host).expect(201);
  const provisioning = await request(server()).post('/api/v1/sites/edge/provisioning-jobs').set('authorization', token).send({});
  expect((await waitForJob(stack, token, provisioning.body.id)).status).toBe('succeeded');
});

afterAll(async () => {
  await stack?.close();
  await ironic?.close();
  await kube?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

let clusterId = '';

describe('bootstrap jobs', () => {
  it('refuses a host without an address, naming it', async () => {
    const response = await request(server()).post('/api/v1/sites/edge/clusters').set('authorization', token).send({ name: 'edge-bad', controlPlane: ['cp-1'], workers: ['node-x'], ...REQUEST });
    expect(response.status).toBe(400);
    expect(response.body.detail).toContain('node-x has no address');
  });

  it('decides the split, runs the installer, registers the cluster, and deploys to it by clusterId', async () => {
    const started = await request(server()).post('/api/v1/sites/edge/clusters').set('authorization', token).send({ name: 'edge-a', ...REQUEST });
    expect(started.status).toBe(202);
    expect(started.body.split).toMatchObject({ controlPlane: ['cp-1'], workers: ['node-1', 'node-2'] });
    expect(started.body.split.explanation.join('\n')).toContain('control plane: the 1 host(s) with role control-plane (cp-1)');
    expect(started.body.cluster).toMatchObject({ name: 'edge-a', status: 'bootstrapping', origin: 'bootstrapped', site: 'edge', engine: 'kud-job' });
    clusterId = started.body.cluster.id;
    const job = await waitForJob(stack, token, started.body.job.id);
    expect(job.error).toBeNull();
    expect(job.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['plan cluster:succeeded', 'apply installer:succeeded', 'run installer:succeeded', 'read kube config:succeeded', 'register cluster:succeeded']);
    const events = await jobEvents(stack, job.id);
    expect(events[0]?.type).toBe('bootstrap.split');
    expect(events.map((e) => e.type)).toContain('bootstrap.installer');
    const inventory = kube.listObjects('ConfigMap').find((c) => c.metadata.labels?.['slipway.io/bootstrap-job'] === job.id) as (KubeObject & { data: Record<string, string> }) | undefined;
    expect(inventory?.data['hosts.ini']).toContain('cp-1 ansible_ssh_host=10.20.0.11');

    const cluster = await request(server()).get(`/api/v1/clusters/${clusterId}`).set('authorization', token);
    expect(cluster.body).toMatchObject({ status: 'ready', server: kube.url, nodes: [{ name: 'cp-1' }, { name: 'node-1' }, { name: 'node-2' }] });
    expect(JSON.stringify(cluster.body)).not.toContain('admin.conf');
    const model = await writeEchoModel(stack);
    const deploy = await request(server()).post('/api/v1/deployments').set('authorization', token).send({ ...model, namespace: 'on-edge-a', clusterId });
    expect(deploy.status).toBe(202);
    expect((await waitForDeployment(stack, token, deploy.body.id)).status).toBe('succeeded');
  });

  it('an installer Job that fails fails the job with its log tail, and the cluster with the reason', async () => {
    kube.faults.jobFails('kud-edge-fail-', 'TASK [kubernetes/preinstall : Stop if swap enabled] failed');
    const started = await request(server()).post('/api/v1/sites/edge/clusters').set('authorization', token).send({ name: 'edge-fail', controlPlane: ['cp-1'], workers: ['node-1'], ...REQUEST });
    expect(started.status).toBe(202);
    const job = await waitForJob(stack, token, started.body.job.id);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('bootstrap_installer_failed');
    expect(job.error?.message).toContain('Last lines of its log:\nTASK [kubernetes/preinstall : Stop if swap enabled] failed');
    const cluster = await request(server()).get(`/api/v1/clusters/${started.body.cluster.id}`).set('authorization', token);
    expect(cluster.body.status).toBe('failed');
    expect(cluster.body.error.code).toBe('bootstrap_installer_failed');
    const deploy = await request(server()).post('/api/v1/deployments').set('authorization', token).send({ solutionId: 'echo-model', revisionId: '1', clusterId: started.body.cluster.id });
    expect(deploy.status).toBe(409);
  });

  it('an installer that writes no kube config Secret: a clear reason', async () => {
    noSecret.add('edge-nosecret');
    const started = await request(server()).post('/api/v1/sites/edge/clusters').set('authorization', token).send({ name: 'edge-nosecret', controlPlane: ['cp-1'], workers: ['node-1'], ...REQUEST });
    const job = await waitForJob(stack, token, started.body.job.id);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('bootstrap_kubeconfig_missing');
    expect(job.error?.message).toMatch(/completed but wrote no Secret slipway-bootstrap\/edge-nosecret-admin-conf/);
  });

  it('a provisioned host labelled for the cluster joins it (installer limited to it) and gets the current packages', async () => {
    const bytes = randomBytes(256);
    const declared = await request(server()).post(`/api/v1/clusters/${clusterId}/packages`).set('authorization', token).send({ name: 'tool', version: '1.0', sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length });
    const patched = await request(server()).patch(declared.headers.location ?? '').set('authorization', token).set('content-type', 'application/offset+octet-stream').set('upload-offset', '0').send(bytes);
    expect((await waitForJob(stack, token, patched.headers[ROLLOUT_JOB_HEADER] ?? '')).status).toBe('succeeded');

    await request(server()).post('/api/v1/sites/edge/hosts').set('authorization', token).send(hostBody('node-3', 5, { labels: { 'slipway.io/cluster': 'edge-a' } })).expect(201);
    const provisioning = await request(server()).post('/api/v1/sites/edge/provisioning-jobs').set('authorization', token).send({ hosts: ['node-3'] });
    expect((await waitForJob(stack, token, provisioning.body.id)).status).toBe('succeeded');
    const followUp = (await jobEvents(stack, provisioning.body.id)).find((e) => e.type === 'follow-up')?.message ?? '';
    const scaleOutId = /scale-out job ([0-9a-f-]{36})/.exec(followUp)?.[1] ?? '';
    expect(followUp).toContain('node-3: joining cluster edge-a');

    const scaleOut = await waitForJob(stack, token, scaleOutId);
    expect(scaleOut.error).toBeNull();
    expect(scaleOut.kind).toBe('scale-out');
    const installer = kube.listObjects('Job').find((j) => j.metadata.labels?.['slipway.io/bootstrap-job'] === scaleOutId) as (KubeObject & { spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } } } }) | undefined;
    const env = Object.fromEntries(installer?.spec.template.spec.containers[0]?.env.map((e) => [e.name, e.value]) ?? []);
    expect(env).toMatchObject({ KUD_ACTION: 'scale', KUD_LIMIT: 'node-3' });
    const cluster = await request(server()).get(`/api/v1/clusters/${clusterId}`).set('authorization', token);
    expect(cluster.body.nodes.map((n: { name: string }) => n.name)).toEqual(['cp-1', 'node-1', 'node-2', 'node-3']);

    const rollout = await waitForJob(stack, token, String(scaleOut.result?.rolloutJobId));
    expect(rollout.status).toBe('succeeded');
    expect((rollout.result as { nodes: Array<{ node: string; packages: Record<string, string> }> }).nodes).toMatchObject([{ node: 'node-3', packages: { tool: '1.0' } }]);

    const again = await request(server()).post(`/api/v1/clusters/${clusterId}/scale-out`).set('authorization', token).send({ hosts: ['node-3'] });
    expect(again.status).toBe(400);
    expect(again.body.detail).toContain('node-3 already belong');
  });
});
