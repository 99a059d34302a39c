import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startFakeIronic, type FakeIronic } from '../support/ironic/fake-ironic.js';
import { ironicUnavailableReason, startIronic, type RunningIronic } from '../support/ironic/launch.js';
import { startTestStack, type TestStack } from '../support/stack.js';

/**
 * Sites, hosts and bare-metal jobs through HTTP against real PostgreSQL: the inventory's
 * validation and secrecy, then provisioning jobs against the in-memory Ironic double (failure
 * paths) and against a real Ironic (Debian's ironic-api/conductor, fake-hardware nodes).
 */
const PASSWORD = 'bmc-Secret-pa55';

function hostBody(index: number, extra: Record<string, unknown> = {}) {
  const octet = index.toString(16).padStart(2, '0');
  return {
    name: `node-${index}`,
    role: index === 1 ? 'control-plane' : 'compute',
    bmc: { address: `fake://node-${index}`, username: 'admin', password: PASSWORD },
    bootMacAddress: `52:54:00:00:01:${octet}`,
    image: { url: 'http://images.test/ubuntu-22.04.qcow2', checksum: 'c'.repeat(64), checksumType: 'sha256', format: 'qcow2' },
    location: { room: 'r1', rack: `rack-${index}` },
    networkData: { links: [] },
    ...extra,
  };
}

async function waitForJob(stack: TestStack, token: string, id: string, timeoutMs = 60_000): Promise<{ status: string; result: { hosts: Array<{ name: string; state: string; error?: { type: string; message: string } }> }; error: { message: string } | null }> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const response = await request(stack.runtime.app.server).get(`/api/v1/jobs/${id}`).set('authorization', token);
    if (['succeeded', 'failed', 'partially_failed', 'cancelled'].includes(response.body.status)) return response.body;
    if (Date.now() > until) throw new Error(`job ${id} still ${response.body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('sites and provisioning against the Ironic double', () => {
  let ironic: FakeIronic;
  let stack: TestStack;
  let token: string;
  const server = () => stack.runtime.app.server;

  beforeAll(async () => {
    ironic = await startFakeIronic();
    stack = await startTestStack({ IRONIC_URL: ironic.url, IRONIC_POLL_INTERVAL: '100ms', IRONIC_CONCURRENCY: '2' });
    token = await stack.token();
    await request(server()).post('/api/v1/sites').set('authorization', token).send({ name: 'edge-1', description: 'Edge site one' }).expect(201);
  });

  afterAll(async () => {
    await stack?.close();
    await ironic?.close();
  });

  it('validates hosts, naming every bad field', async () => {
    const bad = await request(server())
      .post('/api/v1/sites/edge-1/hosts')
      .set('authorization', token)
      .send(hostBody(9, { name: 'Bad_Name', role: 'chef', bootMacAddress: 'zz:zz', bmc: { address: 'telnet://x', username: 'a', password: 'b' } }));
    expect(bad.status).toBe(400);
    const text = JSON.stringify(bad.body.problems);
    for (const field of ['name', 'role', 'bootMacAddress', 'bmc.address']) expect(text).toContain(field);
    const noPassword = await request(server()).post('/api/v1/sites/edge-1/hosts').set('authorization', token).send(hostBody(9, { bmc: { address: 'fake://x', username: 'a' } }));
    expect(noPassword.status).toBe(400);
    expect(JSON.stringify(noPassword.body)).toContain('bmc.password');
  });

  it('stores BMC credentials encrypted and never returns or logs them', async () => {
    for (const i of [1, 2, 3, 4]) await request(server()).post('/api/v1/sites/edge-1/hosts').set('authorization', token).send(hostBody(i)).expect(201);
    const duplicate = await request(server()).post('/api/v1/sites/edge-1/hosts').set('authorization', token).send(hostBody(5, { bootMacAddress: '52:54:00:00:01:01' }));
    expect(duplicate.status).toBe(409);
    const list = await request(server()).get('/api/v1/sites/edge-1/hosts').set('authorization', token);
    expect(list.body.items).toHaveLength(4);
    expect(list.body.items[0]).toMatchObject({ name: 'node-1', state: 'enrolled', location: { room: 'r1', rack: 'rack-1' } });
    expect(JSON.stringify(list.body)).not.toContain(PASSWORD);
    const { rows } = await stack.runtime.pool.query<{ bmc_credentials_enc: string }>('SELECT bmc_credentials_enc FROM hosts');
    for (const row of rows) expect(row.bmc_credentials_enc).not.toContain(PASSWORD);
    expect(stack.logs.join('\n')).not.toContain(PASSWORD);
  });

  it('provisions every host in parallel; one failed host does not stop its siblings', async () => {
    ironic.inject('node-3', { kind: 'deploy-failure', message: 'Image write failed: disk /dev/sda not found' });
    ironic.inject('node-4', { kind: 'wrong-credentials' });
    const started = await request(server()).post('/api/v1/sites/edge-1/provisioning-jobs').set('authorization', token).send({});
    expect(started.status).toBe(202);
    expect(started.headers.location).toBe(`/api/v1/jobs/${started.body.id}`);
    const again = await request(server()).post('/api/v1/sites/edge-1/provisioning-jobs').set('authorization', token).send({ hosts: ['node-1'] });
    expect(again.status).toBe(409);
    const job = await waitForJob(stack, token, started.body.id);
    expect(job.status).toBe('partially_failed');
    const byName = Object.fromEntries(job.result.hosts.map((h) => [h.name, h]));
    expect(byName['node-1']?.state).toBe('provisioned');
    expect(byName['node-2']?.state).toBe('provisioned');
    expect(byName['node-3']?.error).toMatchObject({ type: 'provisioning error' });
    expect(byName['node-3']?.error?.message).toContain('disk /dev/sda not found');
    expect(byName['node-4']?.error?.type).toBe('registration error');
    expect(job.error?.message).toContain('node-3');
    const hosts = await request(server()).get('/api/v1/sites/edge-1/hosts').set('authorization', token);
    const states = Object.fromEntries(hosts.body.items.map((h: { name: string; state: string; errorType: string | null }) => [h.name, [h.state, h.errorType]]));
    expect(states).toMatchObject({ 'node-1': ['provisioned', null], 'node-2': ['provisioned', null], 'node-3': ['error', 'provisioning error'], 'node-4': ['error', 'registration error'] });
    const passwords = ironic.requests.filter((r) => r.rawBody.includes(PASSWORD));
    expect(passwords.every((r) => r.method === 'POST' || r.method === 'PATCH')).toBe(true);
  });

  it('powers hosts and deprovisions with node removal, as jobs', async () => {
    const power = await request(server()).post('/api/v1/sites/edge-1/power-jobs').set('authorization', token).send({ hosts: ['node-1', 'node-2'], action: 'off' });
    expect(power.status).toBe(202);
    expect((await waitForJob(stack, token, power.body.id)).status).toBe('succeeded');
    const host = await request(server()).get('/api/v1/sites/edge-1/hosts/node-1').set('authorization', token);
    expect(host.body.poweredOn).toBe(false);
    const deprovision = await request(server()).post('/api/v1/sites/edge-1/deprovisioning-jobs').set('authorization', token).send({ hosts: ['node-1', 'node-2'], remove: true });
    expect((await waitForJob(stack, token, deprovision.body.id)).status).toBe('succeeded');
    const after = await request(server()).get('/api/v1/sites/edge-1/hosts/node-2').set('authorization', token);
    expect(after.body.state).toBe('enrolled');
    expect((await request(server()).delete('/api/v1/sites/edge-1/hosts/node-2').set('authorization', token)).status).toBe(204);
  });

  it('cancels a provisioning job that cannot finish', async () => {
    ironic.clearFaults('node-3');
    ironic.inject('node-3', { kind: 'slow-deploy' });
    const started = await request(server()).post('/api/v1/sites/edge-1/provisioning-jobs').set('authorization', token).send({ hosts: ['node-3'] });
    expect(started.status).toBe(202);
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      const host = await request(server()).get('/api/v1/sites/edge-1/hosts/node-3').set('authorization', token);
      if (host.body.state === 'provisioning') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const cancel = await request(server()).post(`/api/v1/jobs/${started.body.id}/cancel`).set('authorization', token);
    expect(cancel.status).toBe(202);
    const job = await waitForJob(stack, token, started.body.id);
    expect(['cancelled', 'failed']).toContain(job.status);
    const host = await request(server()).get('/api/v1/sites/edge-1/hosts/node-3').set('authorization', token);
    expect(host.body).toMatchObject({ state: 'error', errorType: 'cancelled' });
  });

  it('shows the site page with its hosts', async () => {
    const page = await request(server()).get('/sites/edge-1').set('cookie', `Authorization=${token}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('node-1');
    expect(page.text).toContain('rack-3');
    expect(page.text).not.toContain(PASSWORD);
  });

  it('keeps other users out', async () => {
    const other = await stack.token({ email: 'eve@example.org' });
    expect((await request(server()).get('/api/v1/sites/edge-1/hosts').set('authorization', other)).status).toBe(404);
    expect((await request(server()).post('/api/v1/sites/edge-1/provisioning-jobs').set('authorization', other).send({})).status).toBe(404);
  });
});

describe('provisioning through a real Ironic', () => {
  let ironic: RunningIronic | undefined;
  let stack: TestStack;
  let token: string;
  const unavailable = ironicUnavailableReason();
  if (unavailable && process.env.CI !== 'true') {
    it.skip(`needs a real Ironic: ${unavailable}`, () => undefined);
    return;
  }

  beforeAll(async () => {
    ironic = await startIronic();
    stack = await startTestStack({ IRONIC_URL: ironic.url, IRONIC_POLL_INTERVAL: '500ms' });
    token = await stack.token();
    await request(stack.runtime.app.server).post('/api/v1/sites').set('authorization', token).send({ name: 'lab' }).expect(201);
    for (const i of [1, 2, 3]) await request(stack.runtime.app.server).post('/api/v1/sites/lab/hosts').set('authorization', token).send(hostBody(i)).expect(201);
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    await ironic?.stop();
  });

  it('provisions fake-hardware hosts and deprovisions them again', async () => {
    const started = await request(stack.runtime.app.server).post('/api/v1/sites/lab/provisioning-jobs').set('authorization', token).send({});
    expect(started.status).toBe(202);
    const job = await waitForJob(stack, token, started.body.id, 90_000);
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    const nodes = (await (await fetch(`${ironic?.url}/v1/nodes?fields=name,provision_state`, { headers: { 'X-OpenStack-Ironic-API-Version': '1.78' } })).json()) as { nodes: Array<{ name: string; provision_state: string }> };
    expect(nodes.nodes.map((n) => [n.name, n.provision_state]).sort()).toEqual([['lab.node-1', 'active'], ['lab.node-2', 'active'], ['lab.node-3', 'active']]);
    const back = await request(stack.runtime.app.server).post('/api/v1/sites/lab/deprovisioning-jobs').set('authorization', token).send({ remove: true });
    expect((await waitForJob(stack, token, back.body.id, 90_000)).status).toBe('succeeded');
  }, 200_000);
});
