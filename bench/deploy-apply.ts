/**
 * Benchmark (issue 3): deploy a 50-node pipeline against the fake Kubernetes API server with
 * 20 ms of latency on every request. Side by side, in one run:
 *  - Slipway: POST /api/v1/deployments through the running service (real PostgreSQL, queue,
 *    worker, the real Kubernetes client); time from the request to the `apply` step's end, and
 *    the API round trips the worker made;
 *  - the reference deployer's way: a sequential create-or-replace of the same objects (for each:
 *    read it, then replace or create it), with the same client library;
 *  - the latency floor: number of waves × latency.
 * Slipway's figures are the median and range of BENCH_RUNS (5) timed deploys, each into a fresh
 * namespace, after BENCH_WARM_UPS (2) untimed ones; BENCH_DETAIL=1 prints each run's steps.
 * Run: npm run bench   (or: npx tsx bench/deploy-apply.ts [nodes] [latencyMs])
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { startRemoteFakeKube } from './support/fake-kube-client.js';
import { startFakeOrchestrator } from '../test/support/fake-orchestrator.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startRuntime } from '../src/runtime.js';
import { connectOrchestrator } from '../src/adapters/orchestrator/client.js';
import { signDevToken } from '../src/http/auth/dev-token.js';
import { decodeJwtSecret } from '../src/http/auth/secret.js';
import { renderForConfig } from '../src/services/manifests.js';
import { benchPipeline, median, range, sequentialCreateOrReplace, writeLocalSolution } from './support/deploy-bench.js';

const NODES = Number(process.argv[2] ?? 50);
const LATENCY = Number(process.argv[3] ?? 20);
/** Timed deploys (the figures are their median and range) and untimed ones before them. */
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const WARM_UPS = Number(process.env.BENCH_WARM_UPS ?? 2);
const SECRET = Buffer.from('bench-secret-bench-secret-bench!').toString('base64');

async function jobFinished(pool: { query: <R>(text: string, values: unknown[]) => Promise<{ rows: R[] }> }, jobId: string): Promise<void> {
  for (;;) {
    const { rows } = await pool.query<{ status: string }>('SELECT status FROM jobs WHERE id = $1', [jobId]);
    if (rows[0] && !['queued', 'running'].includes(rows[0].status)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One timed deploy through the service: request → end of the `apply` step. */
interface TimedDeploy {
  wholeMs: number;
  applyStepMs: number;
  requests: number;
  applies: number;
  steps: string;
}

async function main(): Promise<void> {
  const kube = await startRemoteFakeKube();
  const orchestrator = await startFakeOrchestrator();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'slipway-bench-'));
  const solution = benchPipeline(NODES);
  await writeLocalSolution(path.join(dataDir, 'solutions'), solution);

  const config = loadConfig({ DATA_DIR: dataDir, JWT_SECRET: SECRET, SOLUTION_SOURCE: 'local', SOLUTIONS_DIR: path.join(dataDir, 'solutions'), LOG_LEVEL: 'warn' });
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const runtime = await startRuntime(config, createLogger('warn', sink), {
    connectOrchestrator: () => connectOrchestrator(orchestrator.address),
  });
  const token = await signDevToken(decodeJwtSecret(SECRET, 'base64'));
  const deploy = async (namespace: string) => {
    const response = await runtime.app.inject({
      method: 'POST',
      url: '/api/v1/deployments',
      headers: { authorization: token, 'content-type': 'application/json' },
      payload: { solutionId: 'bench', revisionId: '1', namespace, kubeconfig: kube.kubeconfig },
    });
    if (response.statusCode !== 202) throw new Error(`deploy answered ${response.statusCode}: ${response.body}`);
    return response.json<{ id: string; jobId: string }>();
  };
  const timedDeploy = async (namespace: string): Promise<TimedDeploy> => {
    await kube.setLatency(LATENCY);
    await kube.reset();
    // Wall-clock time, to compare with the step's finish as PostgreSQL recorded it (same clock):
    // the service is not disturbed by a benchmark polling for the end of the step.
    const startedAt = performance.timeOrigin + performance.now();
    const { jobId } = await deploy(namespace);
    await jobFinished(runtime.pool, jobId);
    const { rows: steps } = await runtime.pool.query<{ name: string; status: string; from_created: number; ms: number; finished: number }>(
      `SELECT s.name, s.status, EXTRACT(EPOCH FROM s.started_at - j.created_at) * 1000 AS from_created,
              EXTRACT(EPOCH FROM s.finished_at - s.started_at) * 1000 AS ms, EXTRACT(EPOCH FROM s.finished_at) * 1000 AS finished
         FROM job_steps s JOIN jobs j ON j.id = s.job_id WHERE s.job_id = $1 AND s.started_at IS NOT NULL ORDER BY s.position`,
      [jobId],
    );
    const apply = steps.find((step) => step.name === 'apply');
    if (apply?.status !== 'succeeded') throw new Error(`the apply step did not succeed: ${apply?.status ?? 'not run'}`);
    // Round trips up to the end of the apply step (readiness polls come after it).
    const counted = await kube.count(Number(apply.finished));
    await kube.setLatency(0);
    await kube.purge(namespace);
    return {
      wholeMs: Number(apply.finished) - startedAt,
      applyStepMs: Number(apply.ms),
      requests: counted.requests,
      applies: counted.patches,
      steps: steps
        .filter((step) => ['fetch solution', 'render manifests', 'apply'].includes(step.name))
        .map((step) => `${step.name} +${Number(step.from_created).toFixed(0)} ms (${Number(step.ms).toFixed(0)} ms)`)
        .join(', '),
    };
  };
  try {
    // Untimed deploys first, so the timed ones meet warm code paths and open DB connections,
    // as a running service does.
    for (let i = 0; i < WARM_UPS; i += 1) {
      const { jobId } = await deploy(`bench-warm-up-${i}`);
      await jobFinished(runtime.pool, jobId);
      await kube.purge(`bench-warm-up-${i}`);
    }
    const runs: TimedDeploy[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      const run = await timedDeploy(`bench-slipway-${i}`);
      runs.push(run);
      if (process.env.BENCH_DETAIL) process.stdout.write(`run ${i + 1}: ${run.wholeMs.toFixed(0)} ms; ${run.steps}; ${run.requests} requests\n`);
    }

    // The baseline runs alone, after Slipway's jobs have finished.
    const rendered = renderForConfig(solution, config, 'bench-baseline', '00000000-0000-4000-8000-000000000000');
    const objects = [rendered.namespaceObject, ...rendered.services, ...rendered.deployments];
    await kube.setLatency(LATENCY);
    await kube.reset();
    const baseStart = performance.now();
    // BENCH_SKIP_BASELINE=1 leaves the baseline out (for profiling Slipway's part alone).
    if (!process.env.BENCH_SKIP_BASELINE) await sequentialCreateOrReplace(kube.kubeconfig, objects);
    const baselineMs = performance.now() - baseStart;
    const baselineRequests = (await kube.count()).requests;

    const waves = 3; // Namespace; Services; Deployments (no shared folder, so no PVC wave)
    const floorMs = waves * LATENCY;
    const whole = runs.map((run) => run.wholeMs);
    const applyStep = runs.map((run) => run.applyStepMs);
    const requests = [...new Set(runs.map((run) => run.requests))].join('/');
    const applies = [...new Set(runs.map((run) => run.applies))].join('/');
    const lines = [
      `Deploy of a ${NODES}-node pipeline (+ orchestrator: ${objects.length} objects), ${LATENCY} ms latency per API request; ${RUNS} timed deploys after ${WARM_UPS} untimed`,
      '',
      '| | time to all objects applied (median, range) | API round trips |',
      '|---|---|---|',
      `| Slipway: request → apply step done, through the service | ${median(whole).toFixed(0)} ms (${range(whole)}) | ${requests} (${applies} applies) |`,
      `| Slipway: the apply step alone | ${median(applyStep).toFixed(0)} ms (${range(applyStep)}) | |`,
      `| Baseline: sequential create-or-replace (the reference deployer) | ${baselineMs.toFixed(0)} ms | ${baselineRequests} |`,
      `| Latency floor (${waves} waves × ${LATENCY} ms) | ${floorMs} ms | ${waves} |`,
      '',
      `Speed-up over the baseline (median request → applied): ${(baselineMs / median(whole)).toFixed(1)}× (target ≥ 10×)`,
      `Request → applied against the floor: ${(median(whole) / floorMs).toFixed(2)}× median, ${(Math.max(...whole) / floorMs).toFixed(2)}× worst (target ≤ 3×)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await runtime.stop();
    await orchestrator.close();
    await kube.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
