/**
 * Benchmark (issue 6): provision N fake-hardware hosts (default 50) through Slipway — HTTP
 * request → provisioning job → engine → Ironic client — and, in the same run against the same
 * real Ironic (Debian's ironic-api/conductor, started here on loopback), with a direct minimal
 * script that drives Ironic's REST API for the same kind of hosts with the same poll interval.
 * Prints both wall times and Slipway's overhead (target: at most 10 %).
 * One Ironic's timing moves a lot from run to run (its conductor's periodic tasks, the 1 s poll
 * grid), so the benchmark runs BENCH_ROUNDS (5) rounds, alternating which side goes first, with
 * every node removed between measurements so each starts on an empty Ironic; it reports each
 * round and the median overhead.
 * Run: npm run bench:ironic   (or: npx tsx bench/ironic-provision.ts [hosts] [pollMs])
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { startIronic } from '../test/support/ironic/launch.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startRuntime } from '../src/runtime.js';
import { signDevToken } from '../src/http/auth/dev-token.js';
import { decodeJwtSecret } from '../src/http/auth/secret.js';

const HOSTS = Number(process.argv[2] ?? 50);
const POLL_MS = Number(process.argv[3] ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECRET = Buffer.from('bench-secret-bench-secret-bench!').toString('base64');
const IMAGE = { url: 'http://images.test/ubuntu-22.04.qcow2', checksum: 'c'.repeat(64), checksumType: 'sha256' as const, format: 'qcow2' as const };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The baseline: the least a script must do to take one fake-hardware node from nothing to active. */
async function directProvision(ironic: string, names: string[], macPrefix: number): Promise<number> {
  const headers = { 'content-type': 'application/json', 'X-OpenStack-Ironic-API-Version': '1.78' };
  const call = async (method: string, url: string, body?: unknown) => {
    const response = await fetch(`${ironic}${url}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    if (response.status === 409) return { retry: true as const, json: undefined };
    if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
    return { retry: false as const, json: response.status === 204 || response.status === 202 ? undefined : ((await response.json()) as Record<string, unknown>) };
  };
  const until = async (uuid: string, state: string) => {
    for (;;) {
      const { json } = await call('GET', `/v1/nodes/${uuid}?fields=provision_state,target_provision_state,last_error`);
      if (json?.provision_state === state && json.target_provision_state === null) return;
      if (String(json?.provision_state).includes('failed')) throw new Error(`${uuid}: ${String(json?.last_error)}`);
      await sleep(POLL_MS);
    }
  };
  const act = async (uuid: string, target: string, extra: Record<string, unknown> = {}) => {
    while ((await call('PUT', `/v1/nodes/${uuid}/states/provision`, { target, ...extra })).retry) await sleep(POLL_MS);
  };
  const started = performance.now();
  await Promise.all(
    names.map(async (name, i) => {
      const fake = Object.fromEntries(['bios', 'boot', 'console', 'deploy', 'inspect', 'management', 'power', 'raid', 'rescue', 'vendor'].map((k) => [`${k}_interface`, 'fake']));
      const { json } = await call('POST', '/v1/nodes', { name, driver: 'fake-hardware', resource_class: 'baremetal', network_interface: 'noop', storage_interface: 'noop', ...fake });
      const uuid = String(json?.uuid);
      await call('POST', '/v1/ports', { node_uuid: uuid, address: mac(macPrefix, i), pxe_enabled: true });
      await act(uuid, 'manage');
      await until(uuid, 'manageable');
      await act(uuid, 'provide');
      await until(uuid, 'available');
      await call('PATCH', `/v1/nodes/${uuid}`, [{ op: 'add', path: '/instance_info', value: { image_source: IMAGE.url, image_os_hash_algo: 'sha256', image_os_hash_value: IMAGE.checksum, image_disk_format: 'qcow2' } }]);
      await act(uuid, 'active', { configdrive: { meta_data: { hostname: name } } });
      await until(uuid, 'active');
    }),
  );
  return performance.now() - started;
}

function mac(prefix: number, i: number): string {
  return `52:54:${prefix.toString(16).padStart(2, '0')}:00:${Math.floor(i / 256).toString(16).padStart(2, '0')}:${(i % 256).toString(16).padStart(2, '0')}`;
}

/** Every node out of Ironic (maintenance first: an active node is deleted only in maintenance). */
async function removeAllNodes(ironic: string): Promise<void> {
  const headers = { 'content-type': 'application/json', 'X-OpenStack-Ironic-API-Version': '1.78' };
  const list = (await (await fetch(`${ironic}/v1/nodes?fields=uuid`, { headers })).json()) as { nodes: Array<{ uuid: string }> };
  await Promise.all(
    list.nodes.map(async ({ uuid }) => {
      await fetch(`${ironic}/v1/nodes/${uuid}/maintenance`, { method: 'PUT', headers, body: JSON.stringify({ reason: 'benchmark cleanup' }) });
      for (let attempt = 0; attempt < 20; attempt += 1) {
        const response = await fetch(`${ironic}/v1/nodes/${uuid}`, { method: 'DELETE', headers });
        if (response.ok || response.status === 404) return;
        await sleep(500);
      }
      throw new Error(`node ${uuid} could not be removed`);
    }),
  );
}

interface SlipwayBench {
  provision(round: number, count: number): Promise<{ ms: number; status: string }>;
  stop(): Promise<void>;
}

async function startSlipway(ironic: string, count: number): Promise<SlipwayBench> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'slipway-bench-ironic-'));
  const config = loadConfig({ DATA_DIR: dataDir, JWT_SECRET: SECRET, IRONIC_URL: ironic, IRONIC_POLL_INTERVAL: `${POLL_MS}ms`, IRONIC_CONCURRENCY: String(count), LOG_LEVEL: 'warn' });
  const runtime = await startRuntime(config, createLogger('warn', new Writable({ write: (_c, _e, cb) => cb() })));
  const token = await signDevToken(decodeJwtSecret(SECRET, 'base64'));
  const call = async (method: string, url: string, payload?: unknown) => {
    const response = await runtime.app.inject({ method: method as 'GET', url, headers: { authorization: token }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
    if (response.statusCode >= 400) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.json<Record<string, unknown>>();
  };
  return {
    async provision(round, hosts) {
      const site = `bench-${round}`;
      await call('POST', '/api/v1/sites', { name: site });
      for (let i = 0; i < hosts; i += 1) {
        const name = `slipway-${round}-${i}`;
        await call('POST', `/api/v1/sites/${site}/hosts`, { name, role: 'compute', bmc: { address: `fake://${name}`, username: 'admin', password: 'secret' }, bootMacAddress: mac(100 + round, i), image: IMAGE, metaData: { hostname: name } });
      }
      const started = performance.now();
      const job = await call('POST', `/api/v1/sites/${site}/provisioning-jobs`, {});
      for (;;) {
        const state = await call('GET', `/api/v1/jobs/${String(job.id)}`);
        if (!['queued', 'running'].includes(String(state.status))) return { ms: performance.now() - started, status: String(state.status) };
        await sleep(50);
      }
    },
    async stop() {
      await runtime.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const ironic = await startIronic();
const slipway = await startSlipway(ironic.url, HOSTS);
try {
  const rounds: Array<{ direct: number; slipway: number }> = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const measureDirect = async () => {
      const ms = await directProvision(ironic.url, Array.from({ length: HOSTS }, (_, i) => `direct-${round}-${i}`), 200 + round);
      await removeAllNodes(ironic.url);
      return ms;
    };
    const measureSlipway = async () => {
      const result = await slipway.provision(round, HOSTS);
      if (result.status !== 'succeeded') throw new Error(`the Slipway job ended ${result.status}`);
      await removeAllNodes(ironic.url);
      return result.ms;
    };
    // Alternate which side goes first, so a drift of Ironic's over the run favours neither.
    if (round % 2 === 0) {
      const direct = await measureDirect();
      rounds.push({ direct, slipway: await measureSlipway() });
    } else {
      const slipwayMs = await measureSlipway();
      rounds.push({ direct: await measureDirect(), slipway: slipwayMs });
    }
  }
  const overheads = rounds.map((round) => (round.slipway / round.direct - 1) * 100);
  const median = [...overheads].sort((a, b) => a - b)[Math.floor(overheads.length / 2)] ?? 0;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const total = (all: typeof rounds, side: 'direct' | 'slipway') => all.reduce((sum, round) => sum + round[side], 0);
  process.stdout.write(
    [
      `Provisioning ${HOSTS} fake-hardware hosts on a real Ironic (poll every ${POLL_MS} ms), ${ROUNDS} rounds`,
      '',
      '| round | direct minimal script against Ironic\'s REST API | Slipway: POST provisioning-jobs → job succeeded | overhead |',
      '|---|---|---|---|',
      ...rounds.map((round, i) => `| ${i + 1}${i % 2 === 0 ? ' (direct first)' : ' (Slipway first)'} | ${seconds(round.direct)} | ${seconds(round.slipway)} | ${(overheads[i] ?? 0).toFixed(1)} % |`),
      '',
      `Slipway's overhead, median of ${ROUNDS} rounds: ${median.toFixed(1)} % (target ≤ 10 %); all rounds together: ${((total(rounds, 'slipway') / total(rounds, 'direct') - 1) * 100).toFixed(1)} %`,
      '',
    ].join('\n'),
  );
} finally {
  await slipway.stop();
  await ironic.stop();
}
