/**
 * Benchmark (issue 6): provision N fake-hardware hosts (default 50) through Slipway — HTTP
 * request → provisioning job → engine → Ironic client — and, in the same run against the same
 * real Ironic (Debian's ironic-api/conductor, started here on loopback), with a direct minimal
 * script that drives Ironic's REST API for the same kind of hosts with the same poll interval.
 * Prints both wall times and Slipway's overhead (target: at most 10 %).
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
const SECRET = Buffer.from('bench-secret-bench-secret-bench!').toString('base64');
const IMAGE = { url: 'http://images.test/ubuntu-22.04.qcow2', checksum: 'c'.repeat(64), checksumType: 'sha256' as const, format: 'qcow2' as const };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The baseline: the least a script must do to take one fake-hardware node from nothing to active. */
async function directProvision(ironic: string, names: string[]): Promise<number> {
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
      await call('POST', '/v1/ports', { node_uuid: uuid, address: mac(200, i), pxe_enabled: true });
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

async function viaSlipway(ironic: string, count: number): Promise<{ ms: number; status: string }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'slipway-bench-ironic-'));
  const config = loadConfig({ DATA_DIR: dataDir, JWT_SECRET: SECRET, IRONIC_URL: ironic, IRONIC_POLL_INTERVAL: `${POLL_MS}ms`, IRONIC_CONCURRENCY: String(count), LOG_LEVEL: 'warn' });
  const runtime = await startRuntime(config, createLogger('warn', new Writable({ write: (_c, _e, cb) => cb() })));
  const token = await signDevToken(decodeJwtSecret(SECRET, 'base64'));
  const call = async (method: string, url: string, payload?: unknown) => {
    const response = await runtime.app.inject({ method: method as 'GET', url, headers: { authorization: token }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
    if (response.statusCode >= 400) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.json<Record<string, unknown>>();
  };
  try {
    await call('POST', '/api/v1/sites', { name: 'bench' });
    for (let i = 0; i < count; i += 1) {
      await call('POST', '/api/v1/sites/bench/hosts', { name: `slipway-${i}`, role: 'compute', bmc: { address: `fake://slipway-${i}`, username: 'admin', password: 'secret' }, bootMacAddress: mac(100, i), image: IMAGE, metaData: { hostname: `slipway-${i}` } });
    }
    const started = performance.now();
    const job = await call('POST', '/api/v1/sites/bench/provisioning-jobs', {});
    for (;;) {
      const state = await call('GET', `/api/v1/jobs/${String(job.id)}`);
      if (!['queued', 'running'].includes(String(state.status))) return { ms: performance.now() - started, status: String(state.status) };
      await sleep(50);
    }
  } finally {
    await runtime.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const ironic = await startIronic();
try {
  const direct = await directProvision(ironic.url, Array.from({ length: HOSTS }, (_, i) => `direct-${i}`));
  const slipway = await viaSlipway(ironic.url, HOSTS);
  if (slipway.status !== 'succeeded') throw new Error(`the Slipway job ended ${slipway.status}`);
  const overhead = (slipway.ms / direct - 1) * 100;
  process.stdout.write(
    [
      `Provisioning ${HOSTS} fake-hardware hosts on a real Ironic (poll every ${POLL_MS} ms), one run`,
      '',
      '| | wall time |',
      '|---|---|',
      `| Direct minimal script against Ironic's REST API | ${(direct / 1000).toFixed(1)} s |`,
      `| Slipway: POST provisioning-jobs → job succeeded | ${(slipway.ms / 1000).toFixed(1)} s |`,
      '',
      `Slipway's overhead: ${overhead.toFixed(1)} % (target ≤ 10 %)`,
      '',
    ].join('\n'),
  );
} finally {
  await ironic.stop();
}
