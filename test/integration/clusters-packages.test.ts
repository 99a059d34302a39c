import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { waitForDeployment } from '../support/deploy-helpers.js';
import { jobEvents, waitForJob, writeEchoModel } from '../support/cluster-helpers.js';
import { ROLLOUT_JOB_HEADER } from '../../src/http/clusters/package-routes.js';

/**
 * The cluster registry and package rollouts through HTTP against real PostgreSQL and the fake
 * Kubernetes API server (a test double with nodes n1–n3, whose Jobs run one simulated pod that
 * completes, or fails when `faults.jobFails` says so): register, deploy by clusterId, resumable
 * uploads checked against their sha256, and a new version installed on exactly the nodes whose
 * version differs.
 */
let kube: FakeKube;
let stack: TestStack;
let token: string;
let clusterId: string;
const server = () => stack.runtime.app.server;
const OFFSET_TYPE = 'application/offset+octet-stream';

beforeAll(async () => {
  kube = await startFakeKube({ nodes: [{ name: 'n1' }, { name: 'n2' }, { name: 'n3' }] });
  stack = await startTestStack({ BOOTSTRAP_POLL_INTERVAL: '50ms', ROLLOUT_BATCH_SIZE: '2' });
  token = await stack.token();
});

afterAll(async () => {
  await stack?.close();
  await kube?.close();
});

describe('cluster registry', () => {
  it('registers a cluster, never shows or logs its kube config, and deploys to it by clusterId', async () => {
    const created = await request(server()).post('/api/v1/clusters').set('authorization', token).send({ name: 'lab', kubeconfig: kube.kubeconfig });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'lab', origin: 'registered', status: 'ready', server: kube.url });
    clusterId = created.body.id;
    expect(created.headers.location).toBe(`/api/v1/clusters/${clusterId}`);
    const again = await request(server()).post('/api/v1/clusters').set('authorization', token).send({ name: 'lab', kubeconfig: kube.kubeconfig });
    expect(again.status).toBe(409);

    const list = await request(server()).get('/api/v1/clusters').set('authorization', token);
    expect(list.body.items.map((c: { id: string }) => c.id)).toEqual([clusterId]);
    const read = await request(server()).get(`/api/v1/clusters/${clusterId}`).set('authorization', token);
    const key = kube.clientKeyPem.split('\n')[1] ?? '';
    for (const text of [JSON.stringify(read.body), JSON.stringify(list.body), stack.logs.join('\n')]) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(Buffer.from(kube.clientKeyPem).toString('base64').slice(0, 40));
    }
    const other = await stack.token({ email: 'eve@example.org' });
    expect((await request(server()).get(`/api/v1/clusters/${clusterId}`).set('authorization', other)).status).toBe(404);
    expect((await request(server()).get('/api/v1/clusters').set('authorization', other)).body.items).toEqual([]);

    const model = await writeEchoModel(stack);
    const deploy = await request(server()).post('/api/v1/deployments').set('authorization', token).send({ ...model, namespace: 'by-cluster-id', clusterId });
    expect(deploy.status).toBe(202);
    const done = await waitForDeployment(stack, token, deploy.body.id);
    expect(done.status).toBe('succeeded');
    expect(kube.getObject('apps/v1', 'Deployment', 'by-cluster-id', 'echo')).toBeDefined();
    const stranger = await request(server()).post('/api/v1/deployments').set('authorization', other).send({ ...model, namespace: 'x', clusterId });
    expect(stranger.status).toBe(404);
  });

  it('refuses a bad kube config naming the field, and a deploy with both or neither target', async () => {
    const exec = ['apiVersion: v1', 'kind: Config', 'current-context: c', 'clusters: [{name: c, cluster: {server: "https://10.0.0.1:6443"}}]',
      'users: [{name: u, user: {exec: {command: /bin/sh, apiVersion: client.authentication.k8s.io/v1}}}]', 'contexts: [{name: c, context: {cluster: c, user: u}}]'].join('\n');
    const bad = await request(server()).post('/api/v1/clusters').set('authorization', token).send({ name: 'bad', kubeconfig: exec });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('kubeconfig_rejected');
    expect(bad.body.field).toBe('users[0].user.exec');
    const model = { solutionId: 'echo-model', revisionId: '1' };
    const both = await request(server()).post('/api/v1/deployments').set('authorization', token).send({ ...model, clusterId, kubeconfig: kube.kubeconfig });
    expect(both.status).toBe(400);
    expect(both.body.detail).toContain('exactly one of them, not both');
    const neither = await request(server()).post('/api/v1/deployments').set('authorization', token).send(model);
    expect(neither.status).toBe(400);
    expect(neither.body.detail).toContain('give exactly one of them');
  });

  it('offers the caller\'s clusters in the Graphene deploy form', async () => {
    const page = await request(server()).get('/deploy/echo-model/1').set('cookie', `Authorization=${token}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<select id="clusterId" name="clusterId">');
    expect(page.text).toContain(`<option value="${clusterId}">lab (${kube.url})</option>`);
  });
});

function sha(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function upload(name: string, version: string, bytes: Buffer): Promise<{ rolloutJobId: string | undefined }> {
  const declared = await request(server()).post(`/api/v1/clusters/${clusterId}/packages`).set('authorization', token).send({ name, version, sha256: sha(bytes), size: bytes.length });
  expect(declared.status).toBe(201);
  const patched = await request(server()).patch(declared.headers.location ?? '').set('authorization', token).set('content-type', OFFSET_TYPE).set('upload-offset', '0').send(bytes);
  expect(patched.status).toBe(204);
  return { rolloutJobId: patched.headers[ROLLOUT_JOB_HEADER] };
}

describe('packages', () => {
  it('uploads resumably: HEAD says where it stands, a wrong offset is a 409 with the right one', async () => {
    const bytes = randomBytes(200_000);
    const declared = await request(server()).post(`/api/v1/clusters/${clusterId}/packages`).set('authorization', token).send({ name: 'nvidia-driver', version: '550.54', sha256: sha(bytes), size: bytes.length });
    expect(declared.status).toBe(201);
    const location = declared.headers.location ?? '';
    expect(location).toMatch(new RegExp(`^/api/v1/clusters/${clusterId}/packages/uploads/[0-9a-f-]{36}$`));

    const first = await request(server()).patch(location).set('authorization', token).set('content-type', OFFSET_TYPE).set('upload-offset', '0').send(bytes.subarray(0, 80_000));
    expect(first.status).toBe(204);
    expect(first.headers['upload-offset']).toBe('80000');
    const head = await request(server()).head(location).set('authorization', token);
    expect(head.status).toBe(200);
    expect([head.headers['upload-offset'], head.headers['upload-length']]).toEqual(['80000', String(bytes.length)]);
    const wrong = await request(server()).patch(location).set('authorization', token).set('content-type', OFFSET_TYPE).set('upload-offset', '0').send(bytes.subarray(0, 10));
    expect(wrong.status).toBe(409);
    expect(wrong.headers['upload-offset']).toBe('80000');
    const notOctets = await request(server()).patch(location).set('authorization', token).set('content-type', 'application/json').set('upload-offset', '80000').send('{}');
    expect(notOctets.status).toBe(415);

    const rest = await request(server()).patch(location).set('authorization', token).set('content-type', OFFSET_TYPE).set('upload-offset', '80000').send(bytes.subarray(80_000));
    expect(rest.status).toBe(204);
    expect(rest.headers['upload-offset']).toBe(String(bytes.length));
    const job = await waitForJob(stack, token, rest.headers[ROLLOUT_JOB_HEADER] ?? '');
    expect(job.status).toBe('succeeded');
    const listed = await request(server()).get(`/api/v1/clusters/${clusterId}/packages`).set('authorization', token);
    expect(listed.body.items).toMatchObject([{ name: 'nvidia-driver', version: '550.54', current: true, size: bytes.length }]);
    const content = await request(server()).get(`/api/v1/clusters/${clusterId}/packages/nvidia-driver/550.54/content`).set('authorization', token).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
    expect((content.body as Buffer).equals(bytes)).toBe(true);
    const duplicate = await request(server()).post(`/api/v1/clusters/${clusterId}/packages`).set('authorization', token).send({ name: 'nvidia-driver', version: '550.54', sha256: sha(bytes), size: bytes.length });
    expect(duplicate.status).toBe(409);
  });

  it('a sha256 mismatch is a 422 and the upload is gone', async () => {
    const bytes = randomBytes(1000);
    const declared = await request(server()).post(`/api/v1/clusters/${clusterId}/packages`).set('authorization', token).send({ name: 'qat-driver', version: '1.0', sha256: 'a'.repeat(64), size: bytes.length });
    const patched = await request(server()).patch(declared.headers.location ?? '').set('authorization', token).set('content-type', OFFSET_TYPE).set('upload-offset', '0').send(bytes);
    expect(patched.status).toBe(422);
    expect(patched.body.code).toBe('package_checksum_mismatch');
    expect((await request(server()).head(declared.headers.location ?? '').set('authorization', token)).status).toBe(404);
  });

  it('a new version goes to exactly the nodes whose version differs, in batches, with per-node status', async () => {
    const v1 = await upload('tool', '1.0', randomBytes(500));
    const first = await waitForJob(stack, token, v1.rolloutJobId ?? '');
    expect(first.status).toBe('succeeded');
    expect((first.result as { nodes: Array<{ node: string; packages: Record<string, string> }> }).nodes.map((n) => n.node)).toEqual(['n1', 'n2', 'n3']);
    // n2 got tool 2.0 meanwhile (say, a node image with the tool baked in, as the store records it).
    await stack.runtime.pool.query(`UPDATE node_packages SET version = '2.0' WHERE cluster_id = $1 AND node = 'n2' AND name = 'tool'`, [clusterId]);

    const v2 = await upload('tool', '2.0', randomBytes(700));
    const job = await waitForJob(stack, token, v2.rolloutJobId ?? '');
    expect(job.status).toBe('succeeded');
    const nodes = (job.result as { nodes: Array<{ node: string; status: string; packages: Record<string, string>; batch: number }>; upToDate: string[] });
    expect(nodes.nodes.map((n) => [n.node, n.status, n.packages])).toEqual([['n1', 'installed', { tool: '2.0' }], ['n3', 'installed', { tool: '2.0' }]]);
    expect(nodes.upToDate).toEqual(['n2']);
    const events = (await jobEvents(stack, job.id)).filter((e) => e.type === 'node').map((e) => e.message);
    expect(events).toEqual(expect.arrayContaining(['n1: installing (tool=2.0)', 'n1: installed (tool=2.0)', 'n3: installed (tool=2.0)']));
    const installJobs = kube.listObjects('Job').filter((j) => j.metadata.labels?.['slipway.io/rollout-job'] === job.id);
    expect(installJobs.map((j) => j.metadata.labels?.['slipway.io/node']).sort()).toEqual(['n1', 'n3']);
  });

  it('a failing node stops the rollout after its batch: the job says which node and why', async () => {
    const stop = kube.faults.jobFails('pkg-n1-', 'dpkg: error processing archive agent_3.0.deb');
    try {
      const v3 = await upload('agent', '3.0', randomBytes(300));
      const job = await waitForJob(stack, token, v3.rolloutJobId ?? '');
      expect(job.status).toBe('partially_failed');
      expect(job.error?.code).toBe('nodes_failed');
      expect(job.error?.message).toContain('n1: Installing packages on n1 failed');
      const result = job.result as { nodes: Array<{ node: string; status: string }> };
      expect(result.nodes.map((n) => `${n.node}:${n.status}`)).toEqual(['n1:failed', 'n2:installed', 'n3:skipped']);
    } finally {
      stop();
    }
  });
});
