import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startFakeKube, type FakeKube, type KubeObject } from '../support/fake-kube/index.js';
import { startFakeIronic, type FakeIronic } from '../support/ironic/fake-ironic.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { hostBody, jobEvents, waitForJob, writeEchoModel } from '../support/cluster-helpers.js';

/**
 * A site rollout through HTTP: one parent job whose children (provisioning through the Ironic
 * double, the KUD bootstrap on the fake Kubernetes API server — a test double — and a deploy to
 * the new cluster) carry its id, with their events copied into the parent's.
 */
let kube: FakeKube;
let ironic: FakeIronic;
let stack: TestStack;
let token: string;
let dir: string;
const server = () => stack.runtime.app.server;
const CLUSTER = { kubernetesVersion: 'v1.29.3', podSubnet: '10.233.64.0/18', serviceSubnet: '10.233.0.0/18' };

beforeAll(async () => {
  kube = await startFakeKube();
  for (const kind of ['Role', 'RoleBinding']) {
    kube.registerResource({ group: 'rbac.authorization.k8s.io', version: 'v1', kind, plural: `${kind.toLowerCase()}s`, singular: kind.toLowerCase(), namespaced: true });
  }
  kube.onJobComplete((job: KubeObject, fake) => {
    const cluster = job.metadata.labels?.['slipway.io/cluster'];
    if (cluster === undefined) return;
    fake.putObject({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `${cluster}-admin-conf`, namespace: job.metadata.namespace }, data: { 'admin.conf': Buffer.from(fake.kubeconfig).toString('base64') } });
  });
  ironic = await startFakeIronic();
  dir = await mkdtemp(path.join(os.tmpdir(), 'slipway-rollout-'));
  await writeFile(path.join(dir, 'bootstrap.kubeconfig'), kube.kubeconfig, { mode: 0o600 });
  stack = await startTestStack({ IRONIC_URL: ironic.url, IRONIC_POLL_INTERVAL: '100ms', BOOTSTRAP_KUBECONFIG: path.join(dir, 'bootstrap.kubeconfig'), BOOTSTRAP_POLL_INTERVAL: '50ms', BOOTSTRAP_TIMEOUT: '30s' });
  token = await stack.token();
  await request(server()).post('/api/v1/sites').set('authorization', token).send({ name: 'rack' }).expect(201);
  for (const host of [hostBody('cp-1', 1, { role: 'control-plane' }), hostBody('w-1', 2)]) await request(server()).post('/api/v1/sites/rack/hosts').set('authorization', token).send(host).expect(201);
  await writeEchoModel(stack);
});

afterAll(async () => {
  await stack?.close();
  await ironic?.close();
  await kube?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('site rollout', () => {
  it('provisions, bootstraps and deploys as children of one job whose events show theirs', async () => {
    const started = await request(server()).post('/api/v1/sites/rack/rollouts').set('authorization', token)
      .send({ cluster: { name: 'rack-a', ...CLUSTER }, deploy: { solutionId: 'echo-model', revisionId: '1', namespace: 'echo' } });
    expect(started.status).toBe(202);
    expect(started.body.kind).toBe('site-rollout');
    const parent = await waitForJob(stack, token, started.body.id, 60_000);
    expect(parent.error).toBeNull();
    expect(parent.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['provision hosts:succeeded', 'bootstrap cluster:succeeded', 'deploy solution:succeeded']);
    const result = parent.result as Record<string, string>;
    for (const key of ['provisionJobId', 'bootstrapJobId', 'deployJobId']) {
      const child = await waitForJob(stack, token, result[key] ?? '');
      expect(child.parentId).toBe(parent.id);
      expect(child.status).toBe('succeeded');
    }
    const messages = (await jobEvents(stack, parent.id)).filter((e) => e.type.startsWith('child.')).map((e) => e.message);
    expect(messages.some((m) => m.startsWith('[provision] cp-1: provisioned'))).toBe(true);
    expect(messages.some((m) => m.startsWith('[bootstrap] installer Job'))).toBe(true);
    expect(messages.some((m) => m.startsWith('[deploy] '))).toBe(true);
    const cluster = await request(server()).get(`/api/v1/clusters/${result.clusterId}`).set('authorization', token);
    expect(cluster.body).toMatchObject({ name: 'rack-a', status: 'ready' });
    const deployment = await request(server()).get(`/api/v1/deployments/${result.deploymentId}`).set('authorization', token);
    expect(deployment.body.status).toBe('succeeded');
  });

  it('fails with the child\'s reason', async () => {
    kube.faults.jobFails('kud-rack-b-', 'fatal: [w-1]: FAILED! => {"msg": "apt lock held"}');
    const started = await request(server()).post('/api/v1/sites/rack/rollouts').set('authorization', token)
      .send({ cluster: { name: 'rack-b', controlPlane: ['cp-1'], workers: ['w-1'], ...CLUSTER } });
    const parent = await waitForJob(stack, token, started.body.id, 60_000);
    expect(parent.status).toBe('failed');
    expect(parent.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['provision hosts:skipped', 'bootstrap cluster:failed']);
    expect(parent.error?.code).toBe('child_job_failed');
    expect(parent.error?.message).toMatch(/^bootstrap \(job [0-9a-f-]{36}\) ended failed: The installer Job kud-rack-b-[0-9a-f]+ failed/);
  });

  it('refuses what can be checked up front', async () => {
    const bad = await request(server()).post('/api/v1/sites/rack/rollouts').set('authorization', token)
      .send({ hosts: ['nope'], cluster: { name: 'Bad_Name', kubernetesVersion: '1.29', podSubnet: '10.0.0.0/8', serviceSubnet: '10.96.0.0/12' } });
    expect(bad.status).toBe(400);
    const text = JSON.stringify(bad.body.problems);
    for (const field of ['hosts: nope', 'cluster.name', 'cluster.kubernetesVersion', 'overlap']) expect(text).toContain(field);
  });
});
