/**
 * Benchmark (issue 7): roll a new package version out to SITES clusters (default 100) of NODES
 * nodes each (default 10) through the real service — HTTP upload (declare + one PATCH) → package
 * recorded → rollout job enqueued → pg-boss → worker → plan from the database → per-node status
 * events and installed versions written — on a real PostgreSQL (embedded, started here).
 * THE INSTALLER IS SIMULATED: it resolves at once instead of running a Kubernetes Job on the node,
 * and the clusters are simulated too (they only list their nodes), so what is measured is
 * Slipway's own orchestration overhead. Every node starts with version 1 installed; version 2 is
 * uploaded to every cluster, so every node needs it.
 * Run: npm run bench:rollout   (or: npx tsx bench/package-rollout.ts [sites] [nodes])
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startRuntime } from '../src/runtime.js';
import { startEmbeddedPostgres } from '../src/adapters/db/embedded.js';
import { signDevToken } from '../src/http/auth/dev-token.js';
import { decodeJwtSecret } from '../src/http/auth/secret.js';
import { simulatedCluster } from './support/simulated-cluster.js';

const SITES = Number(process.argv[2] ?? 100);
const NODES = Number(process.argv[3] ?? 10);
const TARGET_S = 60;
const SECRET = Buffer.from('bench-secret-bench-secret-bench!').toString('base64');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every statement this process sends that writes (INSERT/UPDATE/DELETE, pg-boss's included). */
const writes = { count: 0 };
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function countingQuery(this: pg.Client, ...args: unknown[]) {
  const first = args[0];
  const text = typeof first === 'string' ? first : typeof first === 'object' && first !== null && 'text' in first ? String((first as { text: unknown }).text) : '';
  if (/\b(INSERT|UPDATE|DELETE)\b/i.test(text)) writes.count += 1;
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;

function kubeconfigFor(site: number): string {
  return [
    'apiVersion: v1', 'kind: Config', 'current-context: c',
    `clusters: [{name: c, cluster: {server: "https://site-${site}.example.net:6443"}}]`,
    'users: [{name: u, user: {token: bench-token}}]',
    'contexts: [{name: c, context: {cluster: c, user: u}}]',
  ].join('\n');
}

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'slipway-bench-rollout-'));
const database = await startEmbeddedPostgres(dataDir, { database: 'postgres' });
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 50);
try {
  const config = loadConfig({
    DATABASE_URL: database.url, DATA_DIR: dataDir, JWT_SECRET: SECRET, ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
    LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '16', ROLLOUT_BATCH_SIZE: String(NODES),
  });
  const runtime = await startRuntime(config, createLogger('warn', new Writable({ write: (_c, _e, cb) => cb() })), {
    connectCluster: (kubeconfig) => simulatedCluster(kubeconfig, NODES),
    packageInstaller: async () => async () => { await new Promise<void>((resolve) => setImmediate(resolve)); },
  });
  const token = await signDevToken(decodeJwtSecret(SECRET, 'base64'));
  const call = async (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: Buffer | Record<string, unknown>, headers: Record<string, string> = {}) => {
    const response = await runtime.app.inject({ method, url, headers: { authorization: token, ...headers }, ...(payload === undefined ? {} : { payload }) });
    if (response.statusCode >= 400) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response;
  };
  try {
    const clusterIds: string[] = [];
    for (let site = 0; site < SITES; site += 1) {
      const created = await call('POST', '/api/v1/clusters', { name: `site-${site}`, kubeconfig: kubeconfigFor(site) });
      clusterIds.push(created.json<{ id: string }>().id);
    }
    // Version 1 is on every node already (recorded as an earlier rollout would have).
    await runtime.pool.query(
      `INSERT INTO node_packages (cluster_id, node, name, version)
       SELECT c.id, split_part(c.name, '-', 1) || '-' || split_part(c.name, '-', 2) || '-node-' || n, 'edge-agent', '1.0'
         FROM clusters c, generate_series(0, $1 - 1) AS n`,
      [NODES],
    );
    const bytes = randomBytes(64 * 1024);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const rssBefore = process.memoryUsage().rss;
    peakRss = rssBefore;
    writes.count = 0;
    const started = performance.now();
    const jobIds: string[] = [];
    for (const id of clusterIds) {
      const declared = await call('POST', `/api/v1/clusters/${id}/packages`, { name: 'edge-agent', version: '2.0', sha256, size: bytes.length });
      const patched = await call('PATCH', String(declared.headers.location), bytes, { 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' });
      jobIds.push(String(patched.headers['slipway-rollout-job']));
    }
    const uploaded = performance.now();
    const writesAtUpload = writes.count;
    for (;;) {
      const { rows } = await runtime.pool.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM jobs WHERE id = ANY($1) GROUP BY status', [jobIds]);
      const open = rows.filter((r) => r.status === 'queued' || r.status === 'running').reduce((sum, r) => sum + Number(r.n), 0);
      if (open === 0) {
        const failed = rows.filter((r) => r.status !== 'succeeded');
        if (failed.length > 0) throw new Error(`rollout jobs ended ${JSON.stringify(rows)}`);
        break;
      }
      await sleep(20);
    }
    const finished = performance.now();
    const rolloutWrites = writes.count - writesAtUpload;
    const { rows: [installed] = [] } = await runtime.pool.query<{ n: string }>(`SELECT count(*) AS n FROM node_packages WHERE name = 'edge-agent' AND version = '2.0'`);
    const { rows: [events] = [] } = await runtime.pool.query<{ n: string }>('SELECT count(*) AS n FROM job_events WHERE job_id = ANY($1)', [jobIds]);
    const nodes = SITES * NODES;
    const total = (finished - started) / 1000;
    const mib = (bytesCount: number) => `${(bytesCount / 1024 / 1024).toFixed(0)} MiB`;
    process.stdout.write([
      `Package rollout: ${SITES} sites × ${NODES} nodes = ${nodes} nodes, one new version (64 KiB), one run`,
      'INSTALLER SIMULATED: each node install resolves at once (no Kubernetes Job); clusters simulated (node lists only).',
      'Real: HTTP upload, sha256 check, PostgreSQL, pg-boss queue, workers (WORKER_CONCURRENCY=16), rollout planning, per-node events.',
      '',
      '| | figure | target |',
      '|---|---|---|',
      `| Service overhead: first upload → every rollout job finished | ${total.toFixed(1)} s | < ${TARGET_S} s |`,
      `| … of which ${SITES} uploads (declare + PATCH, sequential) | ${((uploaded - started) / 1000).toFixed(1)} s | |`,
      `| … of which rollout jobs after the last upload | ${((finished - uploaded) / 1000).toFixed(1)} s | |`,
      `| Nodes at the new version | ${installed?.n ?? 0} of ${nodes} | all |`,
      `| Database write statements per node (uploads + rollout, pg-boss included) | ${(writes.count / nodes).toFixed(1)} | |`,
      `| … of which after the last upload | ${(rolloutWrites / nodes).toFixed(1)} | |`,
      `| Job events per node | ${(Number(events?.n ?? 0) / nodes).toFixed(1)} | |`,
      `| Peak RSS of the service process (PostgreSQL runs apart) | ${mib(peakRss)} (${mib(rssBefore)} before) | |`,
      '',
      `${total < TARGET_S ? 'Within' : 'OVER'} the target of ${TARGET_S} s of service overhead.`,
      '',
    ].join('\n'));
  } finally {
    await runtime.stop();
  }
} finally {
  clearInterval(sampler);
  await database.stop();
  await rm(dataDir, { recursive: true, force: true });
}
