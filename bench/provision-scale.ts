/**
 * Benchmark (issue 6): 100 sites × 10 hosts provisioned and verified through Slipway against the
 * in-memory Ironic double (test/support/ironic/fake-ironic.ts: a test double that answers
 * Ironic's REST API at once and moves nodes along without hardware). Real: HTTP API, PostgreSQL
 * (embedded, its own process), queue, workers, engine, Ironic client. Reports the wall time from
 * the first provisioning job to the last host provisioned, database writes per host (row inserts,
 * updates and deletes from pg_stat_user_tables) and peak memory of the service process.
 * Run: npm run bench:scale   (or: npx tsx bench/provision-scale.ts [sites=100] [hostsPerSite=10])
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { startFakeIronic } from '../test/support/ironic/fake-ironic.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startRuntime } from '../src/runtime.js';
import { signDevToken } from '../src/http/auth/dev-token.js';
import { decodeJwtSecret } from '../src/http/auth/secret.js';

const SITES = Number(process.argv[2] ?? 100);
const HOSTS = Number(process.argv[3] ?? 10);
const SECRET = Buffer.from('bench-secret-bench-secret-bench!').toString('base64');
const IMAGE = { url: 'http://images.test/ubuntu-22.04.qcow2', checksum: 'c'.repeat(64), checksumType: 'sha256', format: 'qcow2' };

const ironic = await startFakeIronic();
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'slipway-bench-scale-'));
const config = loadConfig({
  DATA_DIR: dataDir,
  JWT_SECRET: SECRET,
  IRONIC_URL: ironic.url,
  IRONIC_POLL_INTERVAL: '200ms',
  IRONIC_CONCURRENCY: '200',
  WORKER_CONCURRENCY: '50',
  LOG_LEVEL: 'warn',
});
const runtime = await startRuntime(config, createLogger('warn', new Writable({ write: (_c, _e, cb) => cb() })));
const token = await signDevToken(decodeJwtSecret(SECRET, 'base64'));
const call = async (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) => {
  const response = await runtime.app.inject({ method, url, headers: { authorization: token }, ...(payload ? { payload } : {}) });
  if (response.statusCode >= 400) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
  return response.json<Record<string, unknown>>();
};
const writes = async () => {
  const { rows } = await runtime.pool.query<{ n: string }>('SELECT COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0) AS n FROM pg_stat_user_tables');
  return Number(rows[0]?.n ?? 0);
};

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
try {
  for (let s = 0; s < SITES; s += 1) {
    await call('POST', '/api/v1/sites', { name: `site-${s}` });
    for (let h = 0; h < HOSTS; h += 1) {
      const i = s * HOSTS + h;
      await call('POST', `/api/v1/sites/site-${s}/hosts`, {
        name: `host-${h}`,
        role: h === 0 ? 'control-plane' : 'compute',
        bmc: { address: `fake://site-${s}-host-${h}`, username: 'admin', password: 'secret' },
        bootMacAddress: `52:54:${(Math.floor(i / 65536) % 256).toString(16).padStart(2, '0')}:${(Math.floor(i / 256) % 256).toString(16).padStart(2, '0')}:${(i % 256).toString(16).padStart(2, '0')}:01`,
        image: IMAGE,
      });
    }
  }
  const rssBefore = process.memoryUsage().rss;
  await new Promise((resolve) => setTimeout(resolve, 1000)); // let the statistics settle
  const writesBefore = await writes();
  const started = performance.now();
  const jobs: string[] = [];
  for (let s = 0; s < SITES; s += 1) jobs.push(String((await call('POST', `/api/v1/sites/site-${s}/provisioning-jobs`, {})).id));
  const statuses = new Map<string, string>();
  while (statuses.size < jobs.length) {
    const { rows } = await runtime.pool.query<{ id: string; status: string }>(
      `SELECT id, status FROM jobs WHERE id = ANY($1) AND status NOT IN ('queued', 'running')`,
      [jobs],
    );
    for (const row of rows) statuses.set(row.id, row.status);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const wallMs = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const writesPerHost = ((await writes()) - writesBefore) / (SITES * HOSTS);
  const { rows } = await runtime.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM hosts WHERE state = 'provisioned'`);
  const succeeded = [...statuses.values()].filter((s) => s === 'succeeded').length;
  if (succeeded < SITES) {
    const { rows: failed } = await runtime.pool.query<{ error: unknown }>(`SELECT error FROM jobs WHERE id = ANY($1) AND status <> 'succeeded' LIMIT 3`, [jobs]);
    for (const row of failed) process.stdout.write(`failed job: ${JSON.stringify(row.error).slice(0, 600)}\n`);
  }
  process.stdout.write(
    [
      `Provisioning ${SITES} sites × ${HOSTS} hosts (${SITES * HOSTS}) against the in-memory Ironic double (a test double: no hardware, instant transitions)`,
      '',
      '| | figure | target |',
      '|---|---|---|',
      `| Wall time, first provisioning job → every host provisioned | ${(wallMs / 1000).toFixed(1)} s | < 60 s |`,
      `| Hosts provisioned | ${rows[0]?.n ?? 0} of ${SITES * HOSTS} (${succeeded} of ${SITES} jobs succeeded) | all |`,
      `| Database row writes per host (inserts + updates + deletes, all tables) | ${writesPerHost.toFixed(1)} | |`,
      `| Peak RSS of the service process (PostgreSQL runs apart) | ${(peakRss / 2 ** 20).toFixed(0)} MiB (${(rssBefore / 2 ** 20).toFixed(0)} MiB before the jobs) | |`,
      `| Ironic requests | ${ironic.requests.length} (${(ironic.requests.length / (SITES * HOSTS)).toFixed(1)} per host) | |`,
      '',
    ].join('\n'),
  );
} finally {
  clearInterval(sampler);
  await runtime.stop();
  await ironic.close();
  await rm(dataDir, { recursive: true, force: true });
}
