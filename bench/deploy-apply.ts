/**
 * Benchmark (issue 3): deploy a 50-node pipeline against the fake Kubernetes API server with
 * 20 ms of latency on every request. Side by side, in one run:
 *  - Slipway: POST /api/v1/deployments through the running service (real PostgreSQL, queue,
 *    worker, the real Kubernetes client); time from the request to the `apply` step's end, and
 *    the API round trips the worker made;
 *  - the reference deployer's way: a sequential create-or-replace of the same objects (for each:
 *    read it, then replace or create it), with the same client library;
 *  - the latency floor: number of waves × latency.
 * Run: npm run bench   (or: npx tsx bench/deploy-apply.ts [nodes] [latencyMs])
 */
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Deployment, type V1Namespace, type V1Service } from '@kubernetes/client-node';
import { startRemoteFakeKube } from './support/fake-kube-client.js';
import { startFakeOrchestrator } from '../test/support/fake-orchestrator.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startRuntime } from '../src/runtime.js';
import { connectOrchestrator } from '../src/adapters/orchestrator/client.js';
import { signDevToken } from '../src/http/auth/dev-token.js';
import { decodeJwtSecret } from '../src/http/auth/secret.js';
import { renderForConfig } from '../src/services/manifests.js';
import type { PipelineSolution } from '../src/domain/solution.js';

const NODES = Number(process.argv[2] ?? 50);
const LATENCY = Number(process.argv[3] ?? 20);
const SECRET = Buffer.from('bench-secret-bench-secret-bench!').toString('base64');

function pipeline(nodes: number): PipelineSolution {
  const names = Array.from({ length: nodes }, (_, i) => `model-${i + 1}`);
  const blueprint = {
    name: 'Bench Pipeline',
    version: '1',
    input_ports: [],
    nodes: names.map((name, i) => ({
      container_name: name,
      node_type: 'MLModel',
      image: `registry.example.org/bench/${name}:1`,
      proto_uri: `org/acumos/bench/${name}/1/${name}-1.proto`,
      operation_signature_list: [
        {
          operation_signature: { operation_name: 'step', input_message_name: 'Data', output_message_name: 'Data' },
          connected_to: i + 1 < names.length ? [{ container_name: names[i + 1], operation_signature: { operation_name: 'step' } }] : [],
        },
      ],
    })),
    probeIndicator: [{ value: 'false' }],
  };
  const proto = 'syntax = "proto3";\nmessage Data { string text = 1; }\nservice Model { rpc step(Data) returns (Data); }\n';
  return { kind: 'pipeline', solutionId: 'bench', revisionId: '1', name: 'Bench Pipeline', blueprint, protos: Object.fromEntries(names.map((n) => [n, proto])) };
}

async function sequentialCreateOrReplace(kubeconfig: string, objects: Array<V1Namespace | V1Service | V1Deployment>): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const exists = async (read: () => Promise<unknown>) => read().then(() => true, () => false);
  for (const object of objects) {
    const name = object.metadata?.name ?? '';
    const namespace = object.metadata?.namespace ?? '';
    if (object.kind === 'Namespace') {
      const body = object as V1Namespace;
      if (await exists(() => core.readNamespace({ name }))) await core.replaceNamespace({ name, body });
      else await core.createNamespace({ body });
    } else if (object.kind === 'Service') {
      const body = object as V1Service;
      if (await exists(() => core.readNamespacedService({ name, namespace }))) await core.replaceNamespacedService({ name, namespace, body });
      else await core.createNamespacedService({ namespace, body });
    } else {
      const body = object as V1Deployment;
      if (await exists(() => apps.readNamespacedDeployment({ name, namespace }))) await apps.replaceNamespacedDeployment({ name, namespace, body });
      else await apps.createNamespacedDeployment({ namespace, body });
    }
  }
}

async function jobFinished(pool: { query: <R>(text: string, values: unknown[]) => Promise<{ rows: R[] }> }, jobId: string): Promise<void> {
  for (;;) {
    const { rows } = await pool.query<{ status: string }>('SELECT status FROM jobs WHERE id = $1', [jobId]);
    if (rows[0] && !['queued', 'running'].includes(rows[0].status)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function main(): Promise<void> {
  const kube = await startRemoteFakeKube();
  const orchestrator = await startFakeOrchestrator();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'slipway-bench-'));
  const solution = pipeline(NODES);
  const revision = path.join(dataDir, 'solutions', 'bench', '1');
  await mkdir(path.join(revision, 'microservice'), { recursive: true });
  await writeFile(path.join(revision, 'solution.json'), JSON.stringify({ name: solution.name, kind: 'pipeline' }));
  await writeFile(path.join(revision, 'blueprint.json'), JSON.stringify(solution.blueprint));
  for (const [name, text] of Object.entries(solution.protos)) await writeFile(path.join(revision, 'microservice', `${name}.proto`), text);

  const config = loadConfig({ DATA_DIR: dataDir, JWT_SECRET: SECRET, SOLUTION_SOURCE: 'local', SOLUTIONS_DIR: path.join(dataDir, 'solutions'), LOG_LEVEL: 'warn' });
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const runtime = await startRuntime(config, createLogger('warn', sink), {
    connectOrchestrator: () => connectOrchestrator(orchestrator.address),
  });
  const token = await signDevToken(decodeJwtSecret(SECRET, 'base64'));
  try {
    // One untimed deploy first, so the timed one meets warm code paths and open DB connections.
    const warmUp = await runtime.app.inject({
      method: 'POST',
      url: '/api/v1/deployments',
      headers: { authorization: token, 'content-type': 'application/json' },
      payload: { solutionId: 'bench', revisionId: '1', namespace: 'bench-warm-up', kubeconfig: kube.kubeconfig },
    });
    await jobFinished(runtime.pool, warmUp.json<{ jobId: string }>().jobId);
    await kube.setLatency(LATENCY);
    await kube.reset();
    const started = performance.now();
    const response = await runtime.app.inject({
      method: 'POST',
      url: '/api/v1/deployments',
      headers: { authorization: token, 'content-type': 'application/json' },
      payload: { solutionId: 'bench', revisionId: '1', namespace: 'bench-slipway', kubeconfig: kube.kubeconfig },
    });
    if (response.statusCode !== 202) throw new Error(`deploy answered ${response.statusCode}: ${response.body}`);
    const { id, jobId } = response.json<{ id: string; jobId: string }>();
    let appliedAt: number | undefined;
    while (appliedAt === undefined) {
      const { rows } = await runtime.pool.query<{ status: string }>(`SELECT status FROM job_steps WHERE job_id = $1 AND name = 'apply'`, [jobId]);
      if (rows[0]?.status === 'succeeded') appliedAt = performance.now();
      else if (rows[0]?.status === 'failed') throw new Error('apply failed');
      else await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const slipwayMs = appliedAt - started;
    const counted = await kube.count();
    const applyRequests = counted.patches;
    const { rows: stepRows } = await runtime.pool.query<{ ms: number }>(
      `SELECT EXTRACT(EPOCH FROM finished_at - started_at) * 1000 AS ms FROM job_steps WHERE job_id = $1 AND name = 'apply'`,
      [jobId],
    );
    const applyStepMs = Number(stepRows[0]?.ms ?? 0);
    if (process.env.BENCH_DETAIL) {
      const { rows: detail } = await runtime.pool.query<{ name: string; from_created: number; ms: number }>(
        `SELECT s.name, EXTRACT(EPOCH FROM s.started_at - j.created_at) * 1000 AS from_created, EXTRACT(EPOCH FROM s.finished_at - s.started_at) * 1000 AS ms
           FROM job_steps s JOIN jobs j ON j.id = s.job_id WHERE s.job_id = $1 AND s.started_at IS NOT NULL ORDER BY s.position`,
        [jobId],
      );
      process.stdout.write(`${detail.map((d) => `${d.name}: starts at +${Number(d.from_created).toFixed(0)} ms, takes ${Number(d.ms).toFixed(0)} ms`).join('\n')}\n`);
    }
    const slipwayRequests = counted.requests;

    // The baseline runs alone: Slipway's job (readiness, orchestrator) is over by then.
    await jobFinished(runtime.pool, jobId);
    const rendered = renderForConfig(solution, config, 'bench-baseline', id);
    const objects = [rendered.namespaceObject, ...rendered.services, ...rendered.deployments];
    await kube.reset();
    const baseStart = performance.now();
    // BENCH_SKIP_BASELINE=1 leaves the baseline out (for profiling Slipway's part alone).
    if (!process.env.BENCH_SKIP_BASELINE) await sequentialCreateOrReplace(kube.kubeconfig, objects);
    const baselineMs = performance.now() - baseStart;
    const baselineRequests = (await kube.count()).requests;

    const waves = 3; // Namespace; Services; Deployments (no shared folder, so no PVC wave)
    const floorMs = waves * LATENCY;
    const lines = [
      `Deploy of a ${NODES}-node pipeline (+ orchestrator: ${objects.length} objects), ${LATENCY} ms latency per API request`,
      '',
      '| | time to all objects applied | API round trips |',
      '|---|---|---|',
      `| Slipway (request → apply step done, through the service) | ${slipwayMs.toFixed(0)} ms (apply step alone ${applyStepMs.toFixed(0)} ms) | ${slipwayRequests} (${applyRequests} applies) |`,
      `| Baseline: sequential create-or-replace (the reference deployer) | ${baselineMs.toFixed(0)} ms | ${baselineRequests} |`,
      `| Latency floor (${waves} waves × ${LATENCY} ms) | ${floorMs} ms | ${waves} |`,
      '',
      `Speed-up over the baseline: ${(baselineMs / slipwayMs).toFixed(1)}× (target ≥ 10×)`,
      `Apply step against the floor: ${(applyStepMs / floorMs).toFixed(2)}× (target ≤ 3×); whole request against the floor: ${(slipwayMs / floorMs).toFixed(2)}×`,
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
