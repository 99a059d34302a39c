import { createHmac } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { startFakeOrchestrator } from '../support/fake-orchestrator.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { waitForDeployment } from '../support/deploy-helpers.js';
import { connectOrchestrator } from '../../src/adapters/orchestrator/client.js';
import { CALLBACK_SIGNATURE_HEADER } from '../../src/services/notifications.js';

/**
 * The deployment lifecycle through HTTP against real PostgreSQL, the fake Kubernetes API server
 * and the fake orchestrator: live events, lists, undeploy, new revisions with prune and rollback,
 * one operation per namespace, idempotency keys, cancel and cleanup, logs, callbacks and audit.
 * Solutions come from the local source: the bundled example pipeline (1.0.0), a second revision
 * written here (2.0.0: the shared folder gone, a node renamed) and a single model.
 */
const EXAMPLE = 'slipway-example-pipeline';
const CALLBACK_SECRET = 'callback-test-secret';

let kube: FakeKube;
let orchestrator: Awaited<ReturnType<typeof startFakeOrchestrator>>;
let stack: TestStack;
let token: string;
let admin: string;
let base: string;

async function writeSolutions(dir: string): Promise<void> {
  const examples = new URL('../../examples/solutions/slipway-example-pipeline/1.0.0/', import.meta.url).pathname;
  const v2 = path.join(dir, EXAMPLE, '2.0.0');
  await mkdir(path.dirname(v2), { recursive: true });
  await cp(examples, v2, { recursive: true });
  const blueprint = JSON.parse(await readFile(path.join(v2, 'blueprint.json'), 'utf8')) as { nodes: Array<Record<string, unknown>> };
  const text = JSON.stringify({ ...blueprint, nodes: blueprint.nodes.filter((n) => n.node_type !== 'SharedFolder') })
    .replaceAll('"/data/shared"', '"/unused"')
    .replaceAll('word-counter1', 'word-counter2');
  const cleaned = JSON.parse(text) as { nodes: Array<{ operation_signature_list: Array<{ connected_to: Array<{ container_name: string }> }> }> };
  for (const node of cleaned.nodes) {
    for (const op of node.operation_signature_list) op.connected_to = op.connected_to.filter((c) => c.container_name !== '/unused');
  }
  await writeFile(path.join(v2, 'blueprint.json'), JSON.stringify(cleaned, null, 2));
  await cp(path.join(v2, 'microservice', 'word-counter1.proto'), path.join(v2, 'microservice', 'word-counter2.proto'));
  const model = path.join(dir, 'echo-model', '1');
  await mkdir(model, { recursive: true });
  await writeFile(path.join(model, 'solution.json'), JSON.stringify({ name: 'Echo Model', kind: 'model', containerName: 'echo', image: 'registry.example.org/echo:1' }));
  const model2 = path.join(dir, 'echo-model', '2');
  await mkdir(model2, { recursive: true });
  await writeFile(path.join(model2, 'solution.json'), JSON.stringify({ name: 'Echo Model', kind: 'model', containerName: 'echo', image: 'registry.example.org/echo:2' }));
}

beforeAll(async () => {
  kube = await startFakeKube({ nodes: [{ name: 'node-1', internalIP: '10.0.0.11' }] });
  orchestrator = await startFakeOrchestrator();
  stack = await startTestStack(
    { CALLBACK_SECRET, ALLOW_PRIVATE_CALLBACKS: 'true', DEPLOY_TIMEOUT: '20s' },
    { connectOrchestrator: () => connectOrchestrator(orchestrator.address, { timeoutMs: 5000 }) },
  );
  await writeSolutions(stack.config.solutionsDir);
  token = await stack.token();
  admin = await stack.token({ email: 'root@example.org', roles: ['admin'] });
  const address = await stack.runtime.app.listen({ port: 0, host: '127.0.0.1' });
  base = address;
});

afterAll(async () => {
  await stack?.close();
  await orchestrator?.close();
  await kube?.close();
});

const server = () => stack.runtime.app.server;

function deploy(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return request(server())
    .post('/api/v1/deployments')
    .set({ authorization: `Bearer ${token}`, ...headers })
    .send({ kubeconfig: kube.kubeconfig, ...body });
}

const namesIn = (namespace: string, kind: string) =>
  kube
    .listObjects(kind)
    .filter((o) => o.metadata.namespace === namespace && !o.metadata.deletionTimestamp)
    .map((o) => o.metadata.name)
    .sort();

/** Reads the SSE stream until `stopWhen` is true for an event or the time is up. */
async function readEvents(url: string, stopWhen: (event: { id: string; type: string }) => boolean, lastEventId?: string) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 20_000);
  const response = await fetch(url, { headers: { authorization: token, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }, signal: controller.signal });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const events: Array<{ id: string; type: string; message: string }> = [];
  const reader = response.body?.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    while (reader) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let split: number;
      while ((split = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, split);
        buffer = buffer.slice(split + 2);
        const data = block.split('\n').find((line) => line.startsWith('data: '));
        if (!data) continue;
        const event = JSON.parse(data.slice(6)) as { id: string; type: string; message: string };
        events.push(event);
        if (stopWhen(event)) return events;
      }
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}

describe('live progress', () => {
  it('streams step and job events over SSE and resumes after Last-Event-ID', async () => {
    const created = await deploy({ solutionId: 'echo-model', revisionId: '1', namespace: 'sse' });
    expect(created.status).toBe(202);
    const events = await readEvents(`${base}/api/v1/deployments/${created.body.id}/events`, (e) => e.type === 'job.finished');
    const types = events.map((e) => e.type);
    expect(types).toContain('job.started');
    expect(types).toContain('step.started');
    expect(types).toContain('step.finished');
    expect(types).toContain('applied');
    expect(types.at(-1)).toBe('job.finished');
    const ids = events.map((e) => Number(e.id));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);

    const middle = events[Math.floor(events.length / 2)];
    const resumed = await readEvents(`${base}/api/v1/deployments/${created.body.id}/events`, (e) => e.type === 'job.finished', middle?.id);
    expect(resumed.map((e) => e.id)).toEqual(events.filter((e) => Number(e.id) > Number(middle?.id)).map((e) => e.id));
  });
});

describe('lists', () => {
  it('lists the caller\'s deployments with filters and a cursor; an admin sees everyone\'s', async () => {
    const other = await stack.token({ email: 'bob@example.org' });
    const bobs = await request(server()).post('/api/v1/deployments').set('authorization', other).send({ solutionId: 'echo-model', revisionId: '1', namespace: 'bob-ns', kubeconfig: kube.kubeconfig });
    await waitForDeployment(stack, other, bobs.body.id);
    for (const ns of ['list-a', 'list-b', 'list-c']) {
      const r = await deploy({ solutionId: 'echo-model', revisionId: '1', namespace: ns });
      await waitForDeployment(stack, token, r.body.id);
    }
    const mine = await request(server()).get('/api/v1/deployments?limit=2').set('authorization', token);
    expect(mine.status).toBe(200);
    expect(mine.body.items).toHaveLength(2);
    expect(mine.body.nextCursor).toEqual(expect.any(String));
    const next = await request(server()).get(`/api/v1/deployments?limit=2&cursor=${mine.body.nextCursor}`).set('authorization', token);
    const seen = [...mine.body.items, ...next.body.items].map((d: { id: string }) => d.id);
    expect(new Set(seen).size).toBe(seen.length);
    const all = await request(server()).get('/api/v1/deployments?limit=200').set('authorization', token);
    expect(all.body.items.every((d: { owner: string }) => d.owner === 'ada@example.org')).toBe(true);
    expect(all.body.items.map((d: { namespace: string }) => d.namespace)).not.toContain('bob-ns');
    const filtered = await request(server()).get('/api/v1/deployments?namespace=list-b&status=succeeded').set('authorization', token);
    expect(filtered.body.items.map((d: { namespace: string }) => d.namespace)).toEqual(['list-b']);
    const everyone = await request(server()).get('/api/v1/deployments?limit=200').set('authorization', admin);
    expect(everyone.body.items.map((d: { namespace: string }) => d.namespace)).toContain('bob-ns');
    expect((await request(server()).get('/api/v1/deployments?cursor=garbage').set('authorization', token)).status).toBe(400);
  });
});

describe('undeploy', () => {
  it('removes what Slipway applied and the namespace it created', async () => {
    const created = await deploy({ solutionId: EXAMPLE, revisionId: '1.0.0', namespace: 'gone-soon' });
    expect((await waitForDeployment(stack, token, created.body.id)).status).toBe('succeeded');
    expect(namesIn('gone-soon', 'Deployment')).toHaveLength(3);
    const deleted = await request(server()).delete(`/api/v1/deployments/${created.body.id}`).set('authorization', token);
    expect(deleted.status).toBe(202);
    expect(deleted.body.status).toBe('deleting');
    const done = await waitForDeployment(stack, token, created.body.id);
    expect(done.status).toBe('deleted');
    expect(namesIn('gone-soon', 'Deployment')).toEqual([]);
    expect(namesIn('gone-soon', 'Service')).toEqual([]);
    expect(kube.getObject('v1', 'Namespace', undefined, 'gone-soon')).toBeUndefined();
  });

  it('keeps a namespace that existed before', async () => {
    // As `kubectl create namespace` leaves it: created by another field manager.
    kube.putObject({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-owned', managedFields: [{ manager: 'kubectl-create', operation: 'Update', apiVersion: 'v1', time: new Date().toISOString(), fieldsType: 'FieldsV1', fieldsV1: { 'f:status': { 'f:phase': {} } } }] },
    });
    const created = await deploy({ solutionId: 'echo-model', revisionId: '1', namespace: 'team-owned' });
    await waitForDeployment(stack, token, created.body.id);
    await request(server()).delete(`/api/v1/deployments/${created.body.id}`).set('authorization', token);
    const done = await waitForDeployment(stack, token, created.body.id);
    expect(done.status).toBe('deleted');
    expect(done.steps.find((s) => s.name === 'delete namespace')?.status).toBe('skipped');
    expect(namesIn('team-owned', 'Deployment')).toEqual([]);
    expect(kube.getObject('v1', 'Namespace', undefined, 'team-owned')).toBeDefined();
  });
});

describe('new revisions and rollback', () => {
  it('updates in place, prunes what the new revision no longer has, keeps history and rolls back in one call', async () => {
    const v1 = await deploy({ solutionId: EXAMPLE, revisionId: '1.0.0', namespace: 'revs' });
    expect((await waitForDeployment(stack, token, v1.body.id)).status).toBe('succeeded');
    expect(namesIn('revs', 'Deployment')).toEqual(['orchestrator', 'text-source1', 'word-counter1']);
    expect(namesIn('revs', 'PersistentVolumeClaim')).toHaveLength(1);

    const v2 = await deploy({ solutionId: EXAMPLE, revisionId: '2.0.0', namespace: 'revs' });
    const v2done = await waitForDeployment(stack, token, v2.body.id);
    expect(v2done.status).toBe('succeeded');
    expect(v2done.steps.find((s) => s.name === 'prune')?.detail).toContain('left over from the previous revision removed');
    expect(namesIn('revs', 'Deployment')).toEqual(['orchestrator', 'text-source1', 'word-counter2']);
    expect(namesIn('revs', 'Service')).toEqual(['orchestrator', 'text-source1', 'word-counter2']);
    expect(namesIn('revs', 'PersistentVolumeClaim')).toEqual([]);

    const rollback = await request(server()).post(`/api/v1/deployments/${v2.body.id}/rollback`).set('authorization', token).send({});
    expect(rollback.status).toBe(202);
    expect(rollback.body).toMatchObject({ revisionId: '1.0.0', rollbackOf: v2.body.id, namespace: 'revs' });
    expect((await waitForDeployment(stack, token, rollback.body.id)).status).toBe('succeeded');
    expect(namesIn('revs', 'Deployment')).toEqual(['orchestrator', 'text-source1', 'word-counter1']);
    expect(namesIn('revs', 'PersistentVolumeClaim')).toHaveLength(1);

    const history = await request(server()).get(`/api/v1/deployments/${rollback.body.id}/history`).set('authorization', token);
    expect(history.body.items.map((d: { revisionId: string }) => d.revisionId)).toEqual(['1.0.0', '2.0.0', '1.0.0']);
  });
});

describe('one operation at a time, idempotency, cancel', () => {
  it('answers 409 naming the running deployment when the namespace is busy', async () => {
    kube.faults.imagePull('echo:2', 'still pulling');
    const first = await deploy({ solutionId: 'echo-model', revisionId: '2', namespace: 'busy' });
    const second = await deploy({ solutionId: 'echo-model', revisionId: '1', namespace: 'busy' });
    expect(second.status).toBe(409);
    expect(second.body.code).toBe('target_busy');
    expect(second.body.detail).toContain(first.body.id);
    await waitForDeployment(stack, token, first.body.id, (d) => d.steps.some((s) => s.name === 'wait for readiness' && s.status === 'running'));
    const cancelled = await request(server()).post(`/api/v1/deployments/${first.body.id}/cancel`).set('authorization', token);
    expect(cancelled.status).toBe(202);
    const done = await waitForDeployment(stack, token, first.body.id, undefined, 10_000);
    kube.faults.clear();
    expect(done.status).toBe('cancelled');
    expect(done.applied).toEqual(expect.arrayContaining(['Namespace/busy', 'Service/echo', 'Deployment/echo']));
    expect(namesIn('busy', 'Deployment')).toEqual(['echo']);
    expect((await request(server()).post(`/api/v1/deployments/${first.body.id}/cancel`).set('authorization', token)).status).toBe(409);
  });

  it('never makes a second deployment for a retried request with the same Idempotency-Key', async () => {
    const body = { solutionId: 'echo-model', revisionId: '1', namespace: 'idem' };
    const first = await deploy(body, { 'idempotency-key': 'key-1' });
    const retry = await deploy(body, { 'idempotency-key': 'key-1' });
    expect(first.status).toBe(202);
    expect(retry.status).toBe(202);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body.id).toBe(first.body.id);
    const { rows } = await stack.runtime.pool.query("SELECT count(*)::int AS n FROM deployments WHERE namespace = 'idem'");
    expect(rows[0]).toEqual({ n: 1 });
    const reused = await deploy({ ...body, namespace: 'idem-2' }, { 'idempotency-key': 'key-1' });
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('idempotency_key_reused');
    await waitForDeployment(stack, token, first.body.id);
  });

  it('removes what a failed deployment applied when cleanup is asked for', async () => {
    kube.faults.crashLoop('echo:2', { reason: 'Error', exitCode: 3 });
    const created = await deploy({ solutionId: 'echo-model', revisionId: '2', namespace: 'cleanup', cleanup: true });
    const done = await waitForDeployment(stack, token, created.body.id);
    kube.faults.clear();
    expect(done.status).toBe('failed');
    expect(done.error?.message).toContain('Error');
    expect(namesIn('cleanup', 'Deployment')).toEqual([]);
    expect(done.applied).toEqual([]);
  });
});

describe('logs, callbacks and audit', () => {
  it('returns a node\'s pod logs from the cluster', async () => {
    const created = await deploy({ solutionId: 'echo-model', revisionId: '1', namespace: 'logs' });
    await waitForDeployment(stack, token, created.body.id);
    const pod = kube.listObjects('Pod').find((p) => p.metadata.namespace === 'logs');
    kube.setPodLogs('logs', pod?.metadata.name ?? '', 'line 1\nline 2\nline 3\n');
    const logs = await request(server()).get(`/api/v1/deployments/${created.body.id}/logs?node=echo&tail=2`).set('authorization', token);
    expect(logs.status).toBe(200);
    expect(logs.body.pods[0].text).toBe('line 2\nline 3\n');
    const unknown = await request(server()).get(`/api/v1/deployments/${created.body.id}/logs?node=nope`).set('authorization', token);
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toContain('echo');
  });

  it('POSTs a signed callback when the deployment ends, retrying a failed delivery', async () => {
    const received: Array<{ body: string; signature: string | undefined }> = [];
    let failuresLeft = 1;
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        if (failuresLeft-- > 0) {
          res.writeHead(503).end();
          return;
        }
        received.push({ body, signature: req.headers[CALLBACK_SIGNATURE_HEADER] as string | undefined });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const created = await deploy({ solutionId: 'echo-model', revisionId: '1', namespace: 'callback', callbackUrl: url });
      await waitForDeployment(stack, token, created.body.id);
      const until = Date.now() + 20_000;
      while (received.length === 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 200));
      expect(received).toHaveLength(1);
      const [delivery] = received;
      expect(delivery?.signature).toBe(`sha256=${createHmac('sha256', CALLBACK_SECRET).update(delivery?.body ?? '').digest('hex')}`);
      expect(JSON.parse(delivery?.body ?? '{}')).toMatchObject({ id: created.body.id, status: 'succeeded', event: 'deployment.finished' });
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('rejects a callback URL that is not http(s)', async () => {
    const response = await deploy({ solutionId: 'echo-model', revisionId: '1', namespace: 'bad-callback', callbackUrl: 'file:///etc/passwd' });
    expect(response.status).toBe(400);
    expect(response.body.detail).toContain('callbackUrl');
  });

  it('records every action in the audit log, readable by admins only', async () => {
    expect((await request(server()).get('/api/v1/audit').set('authorization', token)).status).toBe(403);
    const audit = await request(server()).get('/api/v1/audit?limit=500').set('authorization', admin);
    expect(audit.status).toBe(200);
    const entries = audit.body.items as Array<{ actor: string; action: string; result: string; namespace: string; clusterServer: string }>;
    const actions = new Set(entries.map((e) => `${e.action}:${e.result}`));
    for (const expected of ['deploy:accepted', 'deploy:succeeded', 'undeploy:accepted', 'undeploy:deleted', 'rollback:accepted', 'cancel:requested', 'deploy:cancelled', 'deploy:failed']) {
      expect(actions, expected).toContain(expected);
    }
    expect(entries.every((e) => e.clusterServer === kube.url || e.clusterServer === null || e.clusterServer.startsWith('https://127.0.0.1'))).toBe(true);
    const revs = entries.filter((e) => e.namespace === 'revs');
    expect(revs.length).toBeGreaterThanOrEqual(6);
  });
});

