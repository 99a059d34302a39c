import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ironicUnavailableReason, startIronic, type RunningIronic } from '../support/ironic/launch.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { waitForJob } from '../support/cluster-helpers.js';

/**
 * Every host owns its Ironic node, and Slipway's host state follows Ironic — against a real
 * Ironic (Debian's ironic-api and ironic-conductor on loopback, fake-hardware nodes), through the
 * sites API of one Slipway with two users:
 * - two sites with a host of the same name (own boot MACs, own BMCs) get a node each, and
 *   deprovisioning one leaves the other's machine `active`;
 * - a host whose boot MAC is on a node marked for another host is refused and nothing changes;
 *   an unmarked node is taken only when the operator asks to adopt it;
 * - a node deprovisioned, put in maintenance, deleted or failed behind Slipway's back shows on its host as
 *   observed (on a read, and from the periodic reconciliation), as a site event and on the page.
 */
const TEST_IMAGE = { url: 'http://127.0.0.1:1/images/ubuntu-22.04.qcow2', checksum: 'e'.repeat(64), checksumType: 'sha256', format: 'qcow2' };

function hostBody(name: string, mac: string, bmc: string) {
  return { name, role: 'compute', bmc: { address: bmc, username: 'admin', password: 'bmc-secret' }, bootMacAddress: mac, image: TEST_IMAGE, networkData: { links: [] } };
}

interface IronicNodeBody {
  uuid: string;
  name: string | null;
  provision_state: string;
  target_provision_state: string | null;
  maintenance: boolean;
  extra: Record<string, unknown>;
}

interface HostBody {
  id: string;
  name: string;
  nodeName: string;
  nodeId: string | null;
  state: string;
  observed: { state: string; reason: string; seenAt: string; maintenance: boolean } | null;
}

const unavailable = ironicUnavailableReason();

describe.runIf(!unavailable || process.env.CI === 'true')('host ownership and state against a real Ironic', () => {
  let ironic: RunningIronic;
  let stack: TestStack;
  let ada: string;
  let bob: string;
  const server = () => stack.runtime.app.server;

  /** Ironic's own API, as an operator acting behind Slipway's back would use it. */
  async function ironicApi(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const response = await fetch(`${ironic.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'X-OpenStack-Ironic-API-Version': '1.78' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text === '' ? null : (JSON.parse(text) as unknown) };
  }

  async function node(ident: string): Promise<IronicNodeBody | undefined> {
    const { status, json } = await ironicApi('GET', `/v1/nodes/${encodeURIComponent(ident)}`);
    return status === 404 ? undefined : (json as IronicNodeBody);
  }

  async function settled(ident: string, state: string): Promise<void> {
    const until = Date.now() + 60_000;
    for (;;) {
      const current = await node(ident);
      // A failed state keeps its target: reaching it is settling there.
      if (current?.provision_state === state && (current.target_provision_state === null || state.endsWith('failed'))) return;
      if (Date.now() > until) throw new Error(`node ${ident} is ${current?.provision_state ?? 'gone'}, not ${state}: ${await ironic.logTail()}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  const host = async (token: string, site: string, name: string): Promise<HostBody> =>
    (await request(server()).get(`/api/v1/sites/${site}/hosts/${name}`).set('authorization', token).expect(200)).body as HostBody;

  async function startJob(token: string, site: string, kind: 'provisioning' | 'deprovisioning', body: Record<string, unknown> = {}): Promise<{ status: string; error: { message: string } | null }> {
    const started = await request(server()).post(`/api/v1/sites/${site}/${kind}-jobs`).set('authorization', token).send(body);
    expect(started.status).toBe(202);
    return waitForJob(stack, token, started.body.id, 90_000);
  }

  beforeAll(async () => {
    ironic = await startIronic();
    stack = await startTestStack({ IRONIC_URL: ironic.url, IRONIC_POLL_INTERVAL: '300ms', HOST_RECONCILE_INTERVAL: '1s' });
    ada = await stack.token({ email: 'ada@example.org' });
    bob = await stack.token({ email: 'bob@example.org' });
    await request(server()).post('/api/v1/sites').set('authorization', ada).send({ name: 'site-a' }).expect(201);
    await request(server()).post('/api/v1/sites').set('authorization', bob).send({ name: 'site-b' }).expect(201);
    await request(server()).post('/api/v1/sites/site-a/hosts').set('authorization', ada).send(hostBody('server-1', '52:54:00:a0:00:01', 'fake://bmc-a')).expect(201);
    await request(server()).post('/api/v1/sites/site-b/hosts').set('authorization', bob).send(hostBody('server-1', '52:54:00:b0:00:01', 'fake://bmc-b')).expect(201);
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    await ironic?.stop();
  });

  it('gives two same-named hosts of two users a node each; deprovisioning one leaves the other active', async () => {
    expect((await startJob(ada, 'site-a', 'provisioning')).status).toBe('succeeded');
    expect((await startJob(bob, 'site-b', 'provisioning')).status).toBe('succeeded');
    const a = await host(ada, 'site-a', 'server-1');
    const b = await host(bob, 'site-b', 'server-1');
    expect(a).toMatchObject({ nodeName: 'site-a.server-1', state: 'provisioned', observed: null });
    expect(b).toMatchObject({ nodeName: 'site-b.server-1', state: 'provisioned', observed: null });
    expect(a.nodeId).not.toBe(b.nodeId);
    expect((await node('site-a.server-1'))?.extra).toMatchObject({ slipway_host: a.id, slipway_host_name: 'site-a/server-1' });
    expect((await node('site-b.server-1'))?.extra).toMatchObject({ slipway_host: b.id, slipway_host_name: 'site-b/server-1' });

    expect((await startJob(bob, 'site-b', 'deprovisioning')).status).toBe('succeeded');
    expect((await host(bob, 'site-b', 'server-1')).state).toBe('available');
    expect((await node('site-a.server-1'))?.provision_state).toBe('active');
    expect(await host(ada, 'site-a', 'server-1')).toMatchObject({ state: 'provisioned', observed: null });
  }, 200_000);

  it("refuses a host whose boot MAC is on another host's node and changes nothing; adopts an unmarked node only when asked", async () => {
    // Another Slipway on the same Ironic owns this node; a host here with its MAC must not take it.
    const foreign = (await ironicApi('POST', '/v1/nodes', { name: 'elsewhere-1', driver: 'fake-hardware', extra: { slipway_host: randomUUID(), slipway_host_name: 'other/elsewhere-1' } })).json as IronicNodeBody;
    expect((await ironicApi('POST', '/v1/ports', { node_uuid: foreign.uuid, address: '52:54:00:c0:00:01' })).status).toBe(201);
    await request(server()).post('/api/v1/sites/site-a/hosts').set('authorization', ada).send(hostBody('server-2', '52:54:00:c0:00:01', 'fake://bmc-c')).expect(201);
    const refused = await startJob(ada, 'site-a', 'provisioning', { hosts: ['server-2'] });
    expect(refused.status).toBe('failed');
    expect(refused.error?.message).toContain(`Ironic node elsewhere-1 (${foreign.uuid}), found by its boot MAC 52:54:00:c0:00:01, belongs to host other/elsewhere-1: host site-a/server-2 cannot use it`);
    expect(await node(foreign.uuid)).toMatchObject({ name: 'elsewhere-1', provision_state: 'enroll', extra: { slipway_host_name: 'other/elsewhere-1' } });
    expect(await node('site-a.server-2')).toBeUndefined();

    // A node enrolled by hand, marked for nobody: refused with the way to adopt it, then adopted.
    const handmade = (await ironicApi('POST', '/v1/nodes', { name: 'rack7-u12', driver: 'fake-hardware' })).json as IronicNodeBody;
    await ironicApi('POST', '/v1/ports', { node_uuid: handmade.uuid, address: '52:54:00:c0:00:02' });
    await request(server()).post('/api/v1/sites/site-a/hosts').set('authorization', ada).send(hostBody('server-3', '52:54:00:c0:00:02', 'fake://bmc-d')).expect(201);
    const unasked = await startJob(ada, 'site-a', 'provisioning', { hosts: ['server-3'] });
    expect(unasked.error?.message).toContain('belongs to no Slipway host: to make it host site-a/server-3\'s, start the provisioning job with "adopt": true');
    expect((await node(handmade.uuid))?.name).toBe('rack7-u12');
    expect((await startJob(ada, 'site-a', 'provisioning', { hosts: ['server-3'], adopt: true })).status).toBe('succeeded');
    const adopted = await host(ada, 'site-a', 'server-3');
    expect(adopted).toMatchObject({ nodeId: handmade.uuid, nodeName: 'site-a.server-3', state: 'provisioned' });
    expect(await node(handmade.uuid)).toMatchObject({ name: 'site-a.server-3', provision_state: 'active', extra: { slipway_host: adopted.id } });
  }, 200_000);

  it('shows a node deprovisioned, put in maintenance or deleted behind its back on the host, as a site event and on the page', async () => {
    const a = await host(ada, 'site-a', 'server-1');
    expect((await ironicApi('PUT', `/v1/nodes/${a.nodeId}/states/provision`, { target: 'deleted' })).status).toBe(202);
    await settled(a.nodeId ?? '', 'available');
    const read = await host(ada, 'site-a', 'server-1');
    expect(read.state).toBe('provisioned');
    expect(read.observed).toMatchObject({ state: 'available', reason: 'Ironic reports the node "available" (available) while Slipway recorded provisioned' });
    const page = await request(server()).get('/sites/site-a').set('cookie', `Authorization=${ada}`);
    expect(page.text).toContain('Ironic reports the node &quot;available&quot; (available) while Slipway recorded provisioned');

    // Maintenance, seen by the periodic reconciliation alone (nothing reads the host meanwhile).
    expect((await ironicApi('PUT', `/v1/nodes/${a.nodeId}/maintenance`, { reason: 'fan replaced' })).status).toBe(202);
    const until = Date.now() + 30_000;
    let events: Array<{ type: string; message: string; host: string }> = [];
    while (!events.some((e) => e.message.includes('maintenance'))) {
      if (Date.now() > until) throw new Error(`no maintenance event: ${JSON.stringify(events)}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      events = (await request(server()).get('/api/v1/sites/site-a/events').set('authorization', ada).expect(200)).body.items;
    }
    expect(events.find((e) => e.message.includes('maintenance'))).toMatchObject({ type: 'host.differs', host: 'server-1' });

    await ironicApi('DELETE', `/v1/nodes/${a.nodeId}/maintenance`);
    expect((await ironicApi('DELETE', `/v1/nodes/${a.nodeId}`)).status).toBe(204);
    const gone = await host(ada, 'site-a', 'server-1');
    expect(gone.state).toBe('provisioned');
    expect(gone.observed).toMatchObject({ state: 'enrolled', reason: expect.stringContaining('the node recorded for the host was deleted') });
    // Bob's machine was never touched.
    expect((await host(bob, 'site-b', 'server-1')).observed).toBeNull();
  }, 200_000);

  it('shows a node that failed behind its back, with Ironic\'s last error', async () => {
    const adopted = await host(ada, 'site-a', 'server-3');
    const id = adopted.nodeId ?? '';
    await ironicApi('PUT', `/v1/nodes/${id}/states/provision`, { target: 'deleted' });
    await settled(id, 'available');
    await ironicApi('PUT', `/v1/nodes/${id}/states/provision`, { target: 'manage' });
    await settled(id, 'manageable');
    // A manual clean with a step no interface has: Ironic fails the node ("clean failed").
    expect((await ironicApi('PUT', `/v1/nodes/${id}/states/provision`, { target: 'clean', clean_steps: [{ interface: 'deploy', step: 'no_such_step' }] })).status).toBe(202);
    await settled(id, 'clean failed');
    const failed = await host(ada, 'site-a', 'server-3');
    expect(failed.state).toBe('provisioned');
    expect(failed.observed).toMatchObject({ state: 'error', reason: expect.stringMatching(/^Ironic reports the node "clean failed" \(error: .+\) while Slipway recorded provisioned$/) });
  }, 200_000);
});
