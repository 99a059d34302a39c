/**
 * The Ironic client, IronicProvisioner and the provisioning engine against the fake Ironic (a
 * TEST DOUBLE speaking Ironic's REST dialect over HTTP, test/support/ironic/fake-ironic.ts), with
 * faults injected per host. Sleeps are instant and the clock is fake, so hour-long timeouts run
 * in milliseconds. The same code runs against a real Ironic in ironic-real.test.ts.
 */
import { createServer } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IronicClient } from '../../src/adapters/ironic/client.js';
import { IronicApiError } from '../../src/adapters/ironic/errors.js';
import { IronicProvisioner } from '../../src/adapters/ironic/provisioner.js';
import type { ProvisionerHost } from '../../src/domain/baremetal/provisioner.js';
import { provisionerHostOf } from '../support/ironic/provisioner-hosts.js';
import type { HostStatus } from '../../src/domain/baremetal/states.js';
import { deprovisionHosts, powerHosts, provisionHosts, type EngineOptions, type ProvisionRequest } from '../../src/services/provisioning/engine.js';
import { startFakeIronic, type FakeIronic } from '../support/ironic/fake-ironic.js';

const PASSWORD = 'bmc-Secret-91';

function host(index: number, address = `fake://host-${index}`): ProvisionerHost {
  const octet = index.toString(16).padStart(2, '0');
  return provisionerHostOf({
    name: `host-${index}`,
    role: 'compute',
    bmc: { address },
    bootMacAddress: `52:54:00:00:00:${octet}`,
    image: { url: 'http://images.test/ubuntu-22.04.qcow2', checksum: 'c'.repeat(64), checksumType: 'sha256', format: 'qcow2' },
  });
}

function request(spec: ProvisionerHost, password = PASSWORD): ProvisionRequest {
  return { host: spec, credentials: { username: 'admin', password }, configDrive: { userData: '#cloud-config\n', networkData: { links: [] } } };
}

/** A fake clock: every sleep moves time forward and yields, so hosts interleave. */
function fakeTime(): Pick<EngineOptions, 'sleep' | 'now' | 'random'> {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
    random: () => 0.5,
  };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

let ironic: FakeIronic;
let provisioner: IronicProvisioner;
let changes: Array<{ name: string; status: HostStatus }>;

function options(extra: EngineOptions = {}): EngineOptions {
  return { ...fakeTime(), onHostChange: (name, status) => void changes.push({ name, status }), ...extra };
}

function statesOf(name: string): string[] {
  return changes.filter((change) => change.name === name).map((change) => change.status.state);
}

beforeEach(async () => {
  ironic = await startFakeIronic();
  provisioner = new IronicProvisioner(new IronicClient({ endpoint: ironic.url, sleep: async () => {}, random: () => 0 }));
  changes = [];
});

afterEach(async () => {
  await ironic.close();
});

describe('provisioning through the Ironic REST API (fake Ironic)', () => {
  it('takes a host from nothing to provisioned with image and config drive, then back and out', async () => {
    const spec = host(1);
    const result = await provisionHosts(provisioner, [request(spec)], options());

    expect(result.outcome).toBe('succeeded');
    expect(result.hosts[0]).toMatchObject({ name: 'host-1', status: { state: 'provisioned' }, nodeId: ironic.node('test.host-1')?.uuid });
    expect(statesOf('host-1')).toEqual(['registering', 'preparing', 'available', 'provisioning', 'provisioned']);
    const node = ironic.node('test.host-1');
    expect(node?.provision_state).toBe('active');
    expect(node?.instance_info).toEqual({ image_source: spec.image.url, image_os_hash_algo: 'sha256', image_os_hash_value: 'c'.repeat(64), image_disk_format: 'qcow2' });
    expect(node?.configdrive).toEqual({ meta_data: { name: 'host-1', 'local-hostname': 'host-1' }, user_data: '#cloud-config\n', network_data: { links: [] } });
    expect([...ironic.store.ports.values()]).toEqual([expect.objectContaining({ address: '52:54:00:00:00:01', node_uuid: node?.uuid })]);

    changes = [];
    const back = await deprovisionHosts(provisioner, [spec], { ...options(), remove: true });
    expect(back.outcome).toBe('succeeded');
    expect(statesOf('host-1')).toEqual(['deprovisioning', 'available', 'deleting', 'enrolled']);
    expect(ironic.node('test.host-1')).toBeUndefined();
  });

  it('sends the negotiated microversion on every call after GET /v1', async () => {
    await provisionHosts(provisioner, [request(host(1))], options());
    const [discovery, ...calls] = ironic.requests;
    expect(discovery).toMatchObject({ method: 'GET', path: '/v1' });
    expect(new Set(calls.map((call) => call.version))).toEqual(new Set(['1.78']));
  });

  it('finds its own node again: a second run changes nothing and succeeds', async () => {
    await provisionHosts(provisioner, [request(host(1))], options());
    const writesBefore = ironic.requests.filter((call) => call.method !== 'GET').length;
    const again = await provisionHosts(provisioner, [request(host(1))], options());
    expect(again.hosts[0]?.status).toEqual({ state: 'provisioned' });
    expect(ironic.requests.filter((call) => call.method !== 'GET').length).toBe(writesBefore);
  });

  it('takes an unmarked node that holds the boot MAC only when asked to adopt it, and never one marked for another host', async () => {
    const nameless = ironic.store.create({ driver: 'fake-hardware' });
    ironic.store.ports.set('p1', { uuid: 'p1', node_uuid: nameless.uuid, address: '52:54:00:00:00:01' });
    const other = ironic.store.create({ name: 'site-b.host-2', driver: 'fake-hardware', extra: { slipway_host: 'another-host-id', slipway_host_name: 'site-b/host-2' } });
    ironic.store.ports.set('p2', { uuid: 'p2', node_uuid: other.uuid, address: '52:54:00:00:00:02' });

    const refused = await provisionHosts(provisioner, [request(host(1))], options());
    expect(refused.hosts[0]?.status).toEqual({
      state: 'error',
      error: { type: 'registration error', message: `Ironic node ${nameless.uuid}, found by its boot MAC 52:54:00:00:00:01, belongs to no Slipway host: to make it host test/host-1's, start the provisioning job with "adopt": true` },
    });
    expect(nameless.name).toBeNull();

    const adopting = { ...host(1), node: { ...host(1).node, adopt: true } };
    const result = await provisionHosts(provisioner, [request(adopting), request({ ...host(2), node: { ...host(2).node, adopt: true } })], options());
    expect(result.outcome).toBe('partially_failed');
    expect(nameless.name).toBe('test.host-1');
    expect(nameless.extra).toMatchObject({ slipway_host: host(1).node.hostId, slipway_host_name: 'test/host-1' });
    expect(nameless.provision_state).toBe('active');
    expect(result.hosts[1]?.status).toEqual({
      state: 'error',
      error: { type: 'registration error', message: `Ironic node site-b.host-2 (${other.uuid}), found by its boot MAC 52:54:00:00:00:02, belongs to host site-b/host-2: host test/host-2 cannot use it (give it its own boot MAC)` },
    });
    expect(other.provision_state).toBe('enroll');
  });

  it('claims the unmarked node recorded for a host before marks existed (renamed, marked), but not one without its boot MAC', async () => {
    const legacy = ironic.store.create({ name: 'host-1', driver: 'fake-hardware' });
    ironic.store.ports.set('p1', { uuid: 'p1', node_uuid: legacy.uuid, address: '52:54:00:00:00:01' });
    const migrated = provisionerHostOf(host(1), 'test', { nodeId: legacy.uuid });
    expect((await provisionHosts(provisioner, [request(migrated)], options())).hosts[0]?.status).toEqual({ state: 'provisioned' });
    expect(legacy).toMatchObject({ name: 'test.host-1', provision_state: 'active', extra: { slipway_host: migrated.node.hostId } });

    const stray = ironic.store.create({ name: 'host-2', driver: 'fake-hardware' });
    ironic.store.ports.set('p2', { uuid: 'p2', node_uuid: stray.uuid, address: '52:54:00:00:0e:02' });
    const wrongly = provisionerHostOf(host(2), 'test', { nodeId: stray.uuid });
    const result = await provisionHosts(provisioner, [request(wrongly)], options());
    expect(result.hosts[0]?.status).toMatchObject({ state: 'error', error: { message: expect.stringContaining('found by the node id recorded for it, belongs to no Slipway host') } });
    expect(stray).toMatchObject({ name: 'host-2', provision_state: 'enroll', extra: {} });
  });

  it('never works on a node marked for another host, even one found by its recorded id', async () => {
    await provisionHosts(provisioner, [request(host(1))], options());
    const node = ironic.node('test.host-1');
    // Another site's host that (wrongly) recorded the same node: every step refuses, nothing changes.
    const intruder = provisionerHostOf({ ...host(1), bootMacAddress: '52:54:00:00:0f:01' }, 'other-site', { nodeId: node?.uuid ?? '' });
    const writes = ironic.requests.filter((call) => call.method !== 'GET').length;
    const result = await deprovisionHosts(provisioner, [intruder], { ...options(), remove: true });
    expect(result.hosts[0]?.status).toMatchObject({ state: 'error', error: { type: 'deprovisioning error', message: expect.stringContaining('belongs to host test/host-1: host other-site/host-1 cannot use it') } });
    expect(ironic.requests.filter((call) => call.method !== 'GET').length).toBe(writes);
    expect(node?.provision_state).toBe('active');
  });

  it('passes BMC credentials only when creating the node, and never for fake-hardware', async () => {
    await provisionHosts(provisioner, [request(host(1, 'ipmi://10.9.0.1')), request(host(2))], options({ concurrency: 1 }));
    const carrying = ironic.requests.filter((call) => call.rawBody.includes(PASSWORD));
    expect(carrying.map((call) => `${call.method} ${call.path}`)).toEqual(['POST /v1/nodes']);
    expect(carrying[0]?.body).toMatchObject({ name: 'test.host-1', driver: 'ipmi', driver_info: { ipmi_address: '10.9.0.1', ipmi_port: 623, ipmi_password: PASSWORD, ipmi_cipher_suite: 3 } });
  });
});

describe('failures, each with its state, type and message', () => {
  it('an unreachable BMC is a registration error with Ironic\'s message; its sibling is provisioned', async () => {
    const unreachable = host(1, 'redfish://10.9.0.1/redfish/v1/Systems/1');
    ironic.inject('host-1', { kind: 'bmc-unreachable' });

    const result = await provisionHosts(provisioner, [request(unreachable), request(host(2))], options());

    expect(result.outcome).toBe('partially_failed');
    expect(result.hosts[0]?.status).toEqual({
      state: 'error',
      error: { type: 'registration error', message: `Redfish connection failed for node ${ironic.node('test.host-1')?.uuid}: Unable to connect to https://10.9.0.1:443. Error: Connection refused` },
    });
    expect(result.hosts[1]?.status).toEqual({ state: 'provisioned' });
    expect(ironic.node('test.host-1')?.provision_state).toBe('enroll');
  });

  it('wrong credentials fail registration once, without the password in any message; the corrected password is sent on the next run', async () => {
    const ipmi = host(1, 'ipmi://10.9.0.1');
    ironic.inject('host-1', { kind: 'wrong-credentials', correctPassword: 'right-one' });

    const first = await provisionHosts(provisioner, [request(ipmi, 'wrong-one')], options());
    expect(first.outcome).toBe('failed');
    expect(first.hosts[0]?.status).toMatchObject({ state: 'error', error: { type: 'registration error', message: expect.stringContaining('IPMI call failed: power status.') } });
    expect(JSON.stringify(changes)).not.toContain('wrong-one');
    // One verification attempt, reported once: the engine does not retry a failure by itself.
    expect(ironic.requests.filter((call) => call.path.endsWith('/states/provision')).length).toBe(1);

    const second = await provisionHosts(provisioner, [request(ipmi, 'right-one')], options());
    expect(second.outcome).toBe('succeeded');
    const patched = ironic.requests.find((call) => call.method === 'PATCH' && call.rawBody.includes('right-one'));
    expect(patched?.body).toEqual(expect.arrayContaining([{ op: 'add', path: '/driver_info/ipmi_password', value: 'right-one' }]));
  });

  it('a failed deploy is a provisioning error with last_error; a new run deploys again', async () => {
    ironic.inject('host-1', { kind: 'deploy-failure', message: 'Deploy step deploy.write_image failed: checksum mismatch' });

    const result = await provisionHosts(provisioner, [request(host(1)), request(host(2))], options());

    expect(result.hosts[0]?.status).toEqual({ state: 'error', error: { type: 'provisioning error', message: 'Deploy step deploy.write_image failed: checksum mismatch' } });
    expect(result.hosts[1]?.status).toEqual({ state: 'provisioned' });
    expect(ironic.node('test.host-1')?.provision_state).toBe('deploy failed');

    ironic.clearFaults('host-1');
    const retry = await provisionHosts(provisioner, [request(host(1))], options());
    expect(retry.hosts[0]?.status).toEqual({ state: 'provisioned' });
  });

  it('a locked node is retried until Ironic lets go', async () => {
    ironic.inject('host-1', { kind: 'locked', times: 7 });

    const result = await provisionHosts(provisioner, [request(host(1))], options());

    expect(result.hosts[0]?.status).toEqual({ state: 'provisioned' });
    const locked = ironic.requests.filter((call) => call.method !== 'GET' && call.path.includes('/nodes/'));
    expect(locked.length).toBeGreaterThanOrEqual(7);
  });

  it('a deploy that never finishes times out that host after the deadline, and only that host', async () => {
    ironic.inject('host-1', { kind: 'slow-deploy' });

    const result = await provisionHosts(provisioner, [request(host(1)), request(host(2))], options({ timeoutMs: 60 * 60_000 }));

    expect(result.outcome).toBe('partially_failed');
    expect(result.hosts[0]?.status).toMatchObject({ state: 'error', error: { type: 'timeout', message: expect.stringMatching(/^Did not become provisioned within 60 min \(last state: provisioning\)/) } });
    expect(result.hosts[1]?.status).toEqual({ state: 'provisioned' });
    expect(ironic.node('test.host-1')?.provision_state).toBe('wait call-back');
  });

  it('cancelling marks unfinished hosts cancelled and aborts cleaning where Ironic can', async () => {
    await provisionHosts(provisioner, [request(host(1)), request(host(2))], options());
    ironic.inject('host-1', { kind: 'slow-clean' });
    ironic.inject('host-2', { kind: 'slow-clean' });
    const controller = new AbortController();
    changes = [];
    const cleaningWaits = (): boolean => ['host-1', 'host-2'].every((name) => ironic.node(`test.${name}`)?.provision_state === 'clean wait');

    const result = await deprovisionHosts(provisioner, [host(1), host(2), host(3)], {
      ...options(),
      concurrency: 2,
      signal: controller.signal,
      sleep: async () => {
        // Cancel once Ironic is waiting on both cleanings, as a user would cancel a stuck job.
        if (cleaningWaits()) controller.abort();
        await new Promise((resolve) => setImmediate(resolve));
      },
    });

    expect(result.outcome).toBe('failed');
    for (const name of ['host-1', 'host-2']) {
      expect(result.hosts.find((entry) => entry.name === name)?.status).toMatchObject({ state: 'error', error: { type: 'cancelled', message: expect.stringMatching(/^Cancelled while deprovisioning/) } });
    }
    expect(result.hosts[2]?.status).toEqual({ state: 'error', error: { type: 'cancelled', message: 'Cancelled before the host got a provisioning slot; nothing was done.' } });
    expect(ironic.requests.filter((call) => call.rawBody.includes('"abort"')).length).toBe(2);
    expect(ironic.node('test.host-1')?.provision_state).toBe('clean failed');
  });

  it('Ironic failing now and then is ridden out; Ironic gone fails the host naming the cause', async () => {
    ironic.failNextRequests(3, 503);
    const flaky = await provisionHosts(provisioner, [request(host(1))], options());
    expect(flaky.hosts[0]?.status).toEqual({ state: 'provisioned' });

    const gone = new IronicProvisioner(new IronicClient({ endpoint: `http://127.0.0.1:${await closedPort()}`, requestTimeoutMs: 2_000 }));
    const result = await provisionHosts(gone, [request(host(2))], options({ maxConsecutiveFailures: 2 }));
    expect(result.hosts[0]?.status).toMatchObject({ state: 'error', error: { type: 'registration error', message: expect.stringMatching(/^Ironic: could not be reached \(ECONNREFUSED\).*\(2 attempts in a row\)$/) } });
  });
});

describe('many hosts', () => {
  it('works on at most `concurrency` hosts at once; the others wait as delayed', async () => {
    const requests = Array.from({ length: 8 }, (_, index) => request(host(index + 1)));

    const result = await provisionHosts(provisioner, requests, options({ concurrency: 3 }));

    expect(result.outcome).toBe('succeeded');
    expect(result.hosts.every((entry) => entry.status.state === 'provisioned')).toBe(true);
    expect(ironic.store.maxBusy).toBeLessThanOrEqual(3);
    expect(ironic.store.maxBusy).toBeGreaterThanOrEqual(2);
    const delayed = new Set(changes.filter((change) => change.status.state === 'delayed').map((change) => change.name));
    expect(delayed.size).toBe(5);
  });

  it('a failing onHostChange does not stop the hosts, and its error surfaces at the end', async () => {
    const failing = provisionHosts(provisioner, [request(host(1)), request(host(2))], {
      ...fakeTime(),
      onHostChange: (name, status) => {
        if (name === 'host-1' && status.state === 'available') throw new Error('database down');
      },
    });
    await expect(failing).rejects.toThrow('database down');
    expect(ironic.node('test.host-1')?.provision_state).toBe('active');
    expect(ironic.node('test.host-2')?.provision_state).toBe('active');
  });
});

describe('power', () => {
  it('powers hosts on, off and reboots them, and reports a BMC that fails', async () => {
    await provisionHosts(provisioner, [request(host(1)), request(host(2))], options());
    ironic.inject('host-2', { kind: 'power-failure' });
    const time = fakeTime();

    const off = await powerHosts(provisioner, [host(1), host(2)], 'off', time);
    expect(off.outcome).toBe('partially_failed');
    expect(off.hosts[0]).toEqual({ name: 'host-1', outcome: 'done', poweredOn: false });
    expect(off.hosts[1]).toMatchObject({ name: 'host-2', outcome: 'failed', error: { type: 'power management error', message: expect.stringContaining('IPMI call failed: power off') } });
    expect(ironic.node('test.host-1')?.power_state).toBe('power off');

    const reboot = await powerHosts(provisioner, [host(1)], 'reboot', time);
    expect(reboot.hosts[0]).toEqual({ name: 'host-1', outcome: 'done', poweredOn: true });
    const on = await powerHosts(provisioner, [host(1)], 'on', time);
    expect(on.hosts[0]).toEqual({ name: 'host-1', outcome: 'done', poweredOn: true });
    // Already on: nothing sent.
    expect(ironic.requests.filter((call) => call.path.endsWith('/states/power')).map((call) => call.body)).toEqual([
      { target: 'power off' },
      { target: 'power off' },
      { target: 'rebooting' },
    ]);
  });

  it('refuses to power a host Ironic does not know', async () => {
    const result = await powerHosts(provisioner, [host(9)], 'on', fakeTime());
    expect(result.hosts[0]).toEqual({ name: 'host-9', outcome: 'failed', error: { type: 'power management error', message: 'host host-9 has no Ironic node: register it first' } });
  });
});

describe('IronicClient', () => {
  it('decodes Ironic\'s errors and does not treat "already in that state" as success', async () => {
    const client = new IronicClient({ endpoint: ironic.url });
    await provisionHosts(provisioner, [request(host(1))], options());
    const refused = client.setProvisionState('test.host-1', 'manage');
    await expect(refused).rejects.toBeInstanceOf(IronicApiError);
    await expect(refused).rejects.toThrow(/^Ironic: PUT \/v1\/nodes\/test\.host-1\/states\/provision answered HTTP 400: The requested action "manage" can not be performed on node ".+" while it is in state "active"\.$/);
  });

  it('waits for a node until Ironic has finished, failures included', async () => {
    const client = new IronicClient({ endpoint: ironic.url });
    await provisionHosts(provisioner, [request(host(1))], options());
    ironic.inject('host-1', { kind: 'slow-clean' });
    await client.setProvisionState('test.host-1', 'deleted');
    const waiting = await client.waitForNode('test.host-1', { timeoutMs: 200, intervalMs: 1 }).catch((error: unknown) => error);
    expect(String(waiting)).toMatch(/^UpstreamError: Ironic: node test\.host-1 still clean wait → available after 200 ms$/);

    await client.setProvisionState('test.host-1', 'abort');
    const failed = await client.waitForNode('test.host-1', { timeoutMs: 5_000, intervalMs: 1 });
    expect(failed).toMatchObject({ provisionState: 'clean failed', targetProvisionState: 'available', lastError: expect.stringContaining('Clean operation aborted') });
  });

  it('gives up on a node that stays locked, saying so', async () => {
    const client = new IronicClient({ endpoint: ironic.url, lockedRetries: 2, sleep: async () => {} });
    await provisionHosts(provisioner, [request(host(1))], options());
    ironic.inject('host-1', { kind: 'locked', times: 10 });
    const error = await client.setPowerState('test.host-1', 'power off').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IronicApiError);
    expect((error as IronicApiError).nodeLocked).toBe(true);
    expect(ironic.requests.filter((call) => call.path.endsWith('/states/power')).length).toBe(3);
  });

  it('refuses an Ironic older than API 1.56', async () => {
    const old = createServer((_, response) => response.writeHead(200, { 'x-openstack-ironic-api-maximum-version': '1.46' }).end('{}'));
    await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve));
    const address = old.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      await expect(new IronicClient({ endpoint: `http://127.0.0.1:${port}` }).getNode('x')).rejects.toThrow('Ironic: offers API 1.46 at most; Slipway needs 1.56 or later');
    } finally {
      await new Promise((resolve) => old.close(resolve));
    }
  });
});
