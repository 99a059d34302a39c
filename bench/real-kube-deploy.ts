/**
 * Benchmark (issue 14, point 5): the deploy of a 50-node pipeline against the REAL control plane
 * (test/support/real-kube.ts: kube-apiserver, controller manager, scheduler, etcd built from the
 * pinned Go modules, kwok as the kubelets of three Nodes), with no added latency and with
 * LATENCY ms added each way by a loopback TCP proxy (bench/support/latency-proxy.ts; TLS passes
 * through it untouched). Side by side, on the same apiserver, each into a fresh namespace:
 *  - Slipway through the running service (real PostgreSQL, queue, worker, the real Kubernetes
 *    client): request → every object applied (the job's `applied` event), request → `succeeded`;
 *    and the last Pod's Ready (its Ready condition's lastTransitionTime, from the apiserver) →
 *    `succeeded`;
 *  - the real kubectl of the plane: `kubectl apply --server-side -f -` of the same rendered
 *    manifests (src/services/manifests.ts renderForConfig, as a deploy renders them), until it
 *    exits;
 *  - the reference deployer's sequential create-or-replace of the same objects
 *    (bench/support/deploy-bench.ts, as in bench/deploy-apply.ts; the client library's defaults
 *    open a new TLS connection for every request), and, for reference, the same over one
 *    kept-alive connection.
 * Where the time goes: the apiserver's and etcd's CPU time (/proc) during each measurement and
 * during Slipway's apply alone, Slipway's apply round trips, the TCP connections through the
 * proxy, and watches (straight to the apiserver) that see when the last Pod turned Ready and the
 * last Deployment's status said rolled out.
 * Test doubles, each saying so: fake orchestrators at the orchestrator Services' node ports and a
 * stand-in volume provisioner (test/support/real-kube-stand-ins.ts) — without them no deploy
 * reaches `succeeded`. Everything listens on 127.0.0.1.
 *
 * BENCH_WARM_UPS (2) untimed rounds, then BENCH_RUNS (5) timed rounds; a round measures every
 * approach once at each latency, rotating which goes first; after each measurement its namespace
 * is deleted (Slipway's by undeploying through the API) and awaited, so the next one meets the
 * same cluster. BENCH_DETAIL=1 prints each
 * measurement. Everything is bounded by BENCH_TIMEOUT_S (2400 s); the control plane, the proxy and
 * the service are stopped at the end, on failure too. Without Go it says so and stops.
 * Run: npx tsx bench/real-kube-deploy.ts [nodes=50] [latencyMs=5]   (also part of npm run bench)
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { CoreV1Api, KubeConfig, Watch, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { realKubeUnavailable, startControlPlane, stopControlPlane, type ControlPlane } from '../test/support/real-kube.js';
import { startClusterStandIns, type ClusterStandIns } from '../test/support/real-kube-stand-ins.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startRuntime, type Runtime } from '../src/runtime.js';
import { createClusterClient } from '../src/adapters/kubernetes/cluster-client.js';
import { signDevToken } from '../src/http/auth/dev-token.js';
import { decodeJwtSecret } from '../src/http/auth/secret.js';
import { renderForConfig } from '../src/services/manifests.js';
import { objectsToYaml } from '../src/domain/manifests/yaml.js';
import { benchPipeline, median, range, sequentialCreateOrReplace, writeLocalSolution, type BaselineObject } from './support/deploy-bench.js';
import { startLatencyProxyProcess, type LatencyProxy } from './support/latency-proxy.js';

const NODES = Number(process.argv[2] ?? 50);
const LATENCY = Number(process.argv[3] ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const WARM_UPS = Number(process.env.BENCH_WARM_UPS ?? 2);
const DEADLINE_MS = Number(process.env.BENCH_TIMEOUT_S ?? 2400) * 1000;
const DETAIL = Boolean(process.env.BENCH_DETAIL);
const SECRET = Buffer.from('bench-secret-bench-secret-bench!').toString('base64');
const GOAL_KUBECTL = 1.5;
const GOAL_SEQUENTIAL = 10;
/** Bounds of one measurement, of a namespace's deletion, of a kubectl run. */
const DEPLOY_BOUND_MS = 180_000;
const DELETE_BOUND_MS = 180_000;

const say = (line: string): void => void process.stdout.write(`${line}\n`);

type Approach = 'slipway' | 'kubectl' | 'sequential' | 'keepalive';
const APPROACHES: readonly Approach[] = ['slipway', 'kubectl', 'sequential', 'keepalive'];

/** One side of the comparison: no added latency (straight to the apiserver) or through the proxy. */
interface Path {
  label: string;
  latencyMs: number;
  kubeconfig: string;
  kubeconfigFile: string;
  proxy?: LatencyProxy;
}

interface CpuSample {
  apiserver: number;
  etcd: number;
  bench: number;
}

interface SlipwayRun {
  appliedMs: number;
  /** The preflight step (access reviews, namespace, a server-side dry run), before the apply; NaN when the deploy has none. */
  preflightMs: number;
  applyStepMs: number;
  succeededMs: number;
  /** From the last Pod's Ready lastTransitionTime (whole seconds, so 0–1 s too long) to succeeded. */
  lastReadyMs: number;
  /** From the moment a watch saw the last Pod Ready to succeeded. */
  watchedReadyMs: number;
  /** From the moment a watch saw the last Deployment rolled out (its status: 1 replica updated, ready, available) to succeeded. */
  rolledOutMs: number;
  /** apiserver and etcd CPU from the first apply request to the last answer. */
  applyCpu: { apiserver: number; etcd: number };
  /** The deployment, undeployed through the API once measured. */
  id: string;
  applyRequests: number;
  connections: number;
  cpu: CpuSample;
  steps: string;
}

interface ClientRun {
  ms: number;
  connections: number;
  cpu: CpuSample;
}

interface Figures {
  slipway: SlipwayRun[];
  kubectl: ClientRun[];
  sequential: ClientRun[];
  keepalive: ClientRun[];
  deletes: number[];
}

const withTimeout = async <T>(what: string, ms: number, work: Promise<T>): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took more than ${ms / 1000} s`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU time (ms) of the plane's processes, from /proc (Linux; synchronous: it is read in the middle of an apply); 0 where unreadable. */
function planeCpu(plane: ControlPlane): { apiserver: number; etcd: number } {
  const pidDir = path.join(plane.dir, 'kwok/clusters/slipway/pids');
  const ticks = (name: string): number => {
    try {
      const pid = readFileSync(path.join(pidDir, `${name}.pid`), 'utf8').trim();
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime: fields 14 and 15 of /proc/<pid>/stat (11 and 12 after the command), in 1/100 s.
      return (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return 0;
    }
  };
  return { apiserver: ticks('kube-apiserver'), etcd: ticks('etcd') };
}

function cpuMeter(plane: ControlPlane): () => CpuSample {
  const before = planeCpu(plane);
  const own = process.cpuUsage();
  return () => {
    const after = planeCpu(plane);
    const used = process.cpuUsage(own);
    return { apiserver: after.apiserver - before.apiserver, etcd: after.etcd - before.etcd, bench: (used.user + used.system) / 1000 };
  };
}

/** Records when watches (straight to the apiserver) first see each Pod of `namespace` Ready and each Deployment rolled out. */
async function watchReady(kubeconfig: string, namespace: string): Promise<{ lastPodReady: () => number | undefined; lastRolledOut: () => number | undefined; stop: () => void }> {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  const podReady = new Map<string, number>();
  const rolledOut = new Map<string, number>();
  const first = (seen: Map<string, number>, name: string): void => void (seen.has(name) || seen.set(name, Date.now()));
  const pods = await new Watch(kc).watch(
    `/api/v1/namespaces/${namespace}/pods`,
    {},
    (_type, pod: V1Pod) => {
      if (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) first(podReady, pod.metadata?.name ?? '');
    },
    () => undefined,
  );
  const deployments = await new Watch(kc).watch(
    `/apis/apps/v1/namespaces/${namespace}/deployments`,
    {},
    (_type, deployment: V1Deployment) => {
      const status = deployment.status ?? {};
      const wanted = deployment.spec?.replicas ?? 1;
      const done = (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) && status.updatedReplicas === wanted && status.readyReplicas === wanted && status.availableReplicas === wanted;
      if (done) first(rolledOut, deployment.metadata?.name ?? '');
    },
    () => undefined,
  );
  const last = (seen: Map<string, number>): number | undefined => (seen.size > 0 ? Math.max(...seen.values()) : undefined);
  return {
    lastPodReady: () => last(podReady),
    lastRolledOut: () => last(rolledOut),
    stop: () => {
      pods.abort();
      deployments.abort();
    },
  };
}

/** The latest Ready lastTransitionTime of the namespace's Pods, as the apiserver has it (epoch ms, whole seconds). */
async function lastPodReady(core: CoreV1Api, namespace: string, expected: number): Promise<number> {
  const pods = (await core.listNamespacedPod({ namespace })).items;
  const times = pods.flatMap((pod) => pod.status?.conditions?.filter((c) => c.type === 'Ready' && c.status === 'True').map((c) => new Date(c.lastTransitionTime ?? 0).getTime()) ?? []);
  if (times.length < expected) throw new Error(`${namespace}: ${times.length} of ${expected} Pods Ready after succeeded`);
  return Math.max(...times);
}

async function deleteNamespace(core: CoreV1Api, namespace: string): Promise<number> {
  const started = performance.now();
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  const until = Date.now() + DELETE_BOUND_MS;
  for (;;) {
    const gone = await core.readNamespace({ name: namespace }).then(() => false, (error: unknown) => (error as { code?: number }).code === 404);
    if (gone) return performance.now() - started;
    if (Date.now() > until) throw new Error(`namespace ${namespace} still there ${DELETE_BOUND_MS / 1000} s after its deletion`);
    await sleep(200);
  }
}

function runKubectl(kubectl: string, args: readonly string[], input: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(kubectl, [...args], { env, maxBuffer: 16 * 1024 * 1024, timeout: DEPLOY_BOUND_MS }, (error, stdout, stderr) => {
      if (error) reject(new Error(`kubectl ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

const cleanups: Array<() => Promise<unknown>> = [];
let cleaning: Promise<void> | undefined;
/** Stops everything started, last first; each at most once, each bounded. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const step of cleanups.reverse()) await withTimeout('stopping', 90_000, step()).catch((error: unknown) => say(`cleanup: ${String(error)}`));
  })();
  return cleaning;
}

async function main(): Promise<void> {
  const unavailable = realKubeUnavailable();
  if (unavailable) {
    say(`Real-apiserver deploy benchmark skipped: ${unavailable}.`);
    return;
  }
  const planeDir = await mkdtemp(path.join(os.tmpdir(), 'slipway-bench-real-kube-'));
  cleanups.push(() => rm(planeDir, { recursive: true, force: true }));
  const startedAt = performance.now();
  cleanups.push(() => stopControlPlane(planeDir));
  const plane = await withTimeout('starting the control plane', 600_000, startControlPlane(planeDir, { nodes: 3 }));
  const version = (JSON.parse(await plane.kubectl(['version', '-o', 'json'])) as { serverVersion?: { gitVersion?: string } }).serverVersion?.gitVersion ?? '?';
  const load = (): string => os.loadavg().map((l) => l.toFixed(2)).join(', ');
  const loadAtStart = load();
  say(`Real control plane up in ${((performance.now() - startedAt) / 1000).toFixed(1)} s (kube-apiserver ${version}, 3 kwok Nodes, ${plane.server})`);

  const standIns: ClusterStandIns = startClusterStandIns(plane.kubeconfig);
  cleanups.push(() => standIns.close());

  const server = new URL(plane.server);
  const paths: Path[] = [{ label: 'no added latency', latencyMs: 0, kubeconfig: plane.kubeconfig, kubeconfigFile: plane.kubeconfigFile }];
  if (LATENCY > 0) {
    const proxy = await startLatencyProxyProcess({ host: server.hostname, port: Number(server.port) }, LATENCY);
    cleanups.push(() => proxy.close());
    const kubeconfig = plane.kubeconfig.replace(/(server:\s*)https:\/\/127\.0\.0\.1:\d+/, `$1https://127.0.0.1:${proxy.port}`);
    if (kubeconfig === plane.kubeconfig) throw new Error(`the kube config's server is not https://127.0.0.1:<port>: ${plane.server}`);
    const kubeconfigFile = path.join(planeDir, 'kubeconfig-proxy');
    await writeFile(kubeconfigFile, kubeconfig, { mode: 0o600 });
    paths.push({ label: `+${LATENCY} ms each way (proxy)`, latencyMs: LATENCY, kubeconfig, kubeconfigFile, proxy });
  }

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'slipway-bench-real-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const solution = benchPipeline(NODES);
  await writeLocalSolution(path.join(dataDir, 'solutions'), solution);
  const config = loadConfig({ DATA_DIR: dataDir, JWT_SECRET: SECRET, SOLUTION_SOURCE: 'local', SOLUTIONS_DIR: path.join(dataDir, 'solutions'), LOG_LEVEL: 'warn', DEPLOY_TIMEOUT: '120s' });
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  // The cluster client a deploy makes, as the runtime makes it; only its apply round trips are
  // counted, and the apiserver's and etcd's CPU from the first apply to the last answer.
  let applyRequests = 0;
  let applyCpuFrom: { apiserver: number; etcd: number } | undefined;
  let applyCpu = { apiserver: 0, etcd: 0 };
  const runtime: Runtime = await startRuntime(config, createLogger('warn', sink), {
    connectCluster: (kubeconfig) => {
      const client = createClusterClient(kubeconfig);
      const applyWaves = client.applyWaves.bind(client);
      return Object.assign(client, {
        applyWaves: async (...args: Parameters<typeof applyWaves>) => {
          // The preflight's server-side dry runs are not the apply.
          if (args[1].dryRun) return applyWaves(...args);
          applyCpuFrom ??= planeCpu(plane);
          const result = await applyWaves(...args);
          const now = planeCpu(plane);
          applyCpu = { apiserver: now.apiserver - applyCpuFrom.apiserver, etcd: now.etcd - applyCpuFrom.etcd };
          applyRequests += result.requests;
          return result;
        },
      });
    },
  });
  cleanups.push(() => runtime.stop());
  const token = await signDevToken(decodeJwtSecret(SECRET, 'base64'));
  const core = (() => {
    const kc = new KubeConfig();
    kc.loadFromString(plane.kubeconfig);
    return kc.makeApiClient(CoreV1Api);
  })();
  const kubectlEnv = { ...process.env, KUBECACHEDIR: path.join(planeDir, 'kubectl-cache-bench') };
  const kubectlBinary = path.join(plane.binDir, 'kubectl');
  const objectsFor = (namespace: string): BaselineObject[] => renderForConfig(solution, config, namespace, '00000000-0000-4000-8000-000000000000').objects;
  const objectCount = objectsFor('count').length;
  const connections = async (p: Path): Promise<number> => (p.proxy ? p.proxy.connections() : 0);

  const measureSlipway = async (p: Path, namespace: string): Promise<SlipwayRun> => {
    const watch = await watchReady(plane.kubeconfig, namespace);
    try {
      const connectionsBefore = await connections(p);
      applyRequests = 0;
      applyCpuFrom = undefined;
      const cpu = cpuMeter(plane);
      // Wall-clock time, to compare with what PostgreSQL recorded (same clock).
      const requestedAt = Date.now();
      const response = await runtime.app.inject({
        method: 'POST',
        url: '/api/v1/deployments',
        headers: { authorization: token, 'content-type': 'application/json' },
        payload: { solutionId: solution.solutionId, revisionId: solution.revisionId, namespace, kubeconfig: p.kubeconfig },
      });
      if (response.statusCode !== 202) throw new Error(`deploy answered ${response.statusCode}: ${response.body}`);
      const { id, jobId } = response.json<{ id: string; jobId: string }>();
      const until = Date.now() + DEPLOY_BOUND_MS;
      let deployment: { status: string; updated: number; error: unknown } | undefined;
      for (;;) {
        const { rows } = await runtime.pool.query<{ status: string; updated: number; error: unknown }>('SELECT status, EXTRACT(EPOCH FROM updated_at) * 1000 AS updated, error FROM deployments WHERE id = $1', [id]);
        deployment = rows[0];
        if (deployment && !['queued', 'running'].includes(deployment.status)) break;
        if (Date.now() > until) throw new Error(`deployment into ${namespace} still ${deployment?.status ?? 'absent'} after ${DEPLOY_BOUND_MS / 1000} s`);
        await sleep(50);
      }
      const used = cpu();
      if (deployment.status !== 'succeeded') throw new Error(`deployment into ${namespace} ${deployment.status}: ${JSON.stringify(deployment.error)}`);
      const succeededAt = Number(deployment.updated);
      const { rows: events } = await runtime.pool.query<{ at: number }>(`SELECT EXTRACT(EPOCH FROM at) * 1000 AS at FROM job_events WHERE job_id = $1 AND type = 'applied'`, [jobId]);
      const { rows: steps } = await runtime.pool.query<{ name: string; from_created: number; ms: number }>(
        `SELECT s.name, EXTRACT(EPOCH FROM s.started_at - j.created_at) * 1000 AS from_created, EXTRACT(EPOCH FROM s.finished_at - s.started_at) * 1000 AS ms
           FROM job_steps s JOIN jobs j ON j.id = s.job_id WHERE s.job_id = $1 AND s.started_at IS NOT NULL ORDER BY s.position`,
        [jobId],
      );
      const appliedAt = Number(events[0]?.at);
      if (!Number.isFinite(appliedAt)) throw new Error(`deployment into ${namespace}: no applied event`);
      const lastReady = await lastPodReady(core, namespace, NODES + 1);
      const watched = watch.lastPodReady();
      const rolledOut = watch.lastRolledOut();
      return {
        appliedMs: appliedAt - requestedAt,
        preflightMs: Number(steps.find((s) => s.name === 'preflight')?.ms ?? NaN),
        applyStepMs: Number(steps.find((s) => s.name === 'apply')?.ms ?? NaN),
        succeededMs: succeededAt - requestedAt,
        lastReadyMs: succeededAt - lastReady,
        watchedReadyMs: watched === undefined ? NaN : succeededAt - watched,
        rolledOutMs: rolledOut === undefined ? NaN : succeededAt - rolledOut,
        applyCpu,
        id,
        applyRequests,
        connections: (await connections(p)) - connectionsBefore,
        cpu: used,
        steps: steps.map((s) => `${s.name} +${Number(s.from_created).toFixed(0)} (${Number(s.ms).toFixed(0)} ms)`).join(', '),
      };
    } finally {
      watch.stop();
    }
  };

  const measureKubectl = async (p: Path, namespace: string): Promise<ClientRun> => {
    const manifests = objectsToYaml(objectsFor(namespace));
    const connectionsBefore = await connections(p);
    const cpu = cpuMeter(plane);
    const started = performance.now();
    const out = await runKubectl(kubectlBinary, ['--kubeconfig', p.kubeconfigFile, 'apply', '--server-side', '-f', '-'], manifests, kubectlEnv);
    const ms = performance.now() - started;
    const applied = out.split('\n').filter((line) => line.includes('serverside-applied')).length;
    if (applied !== objectCount) throw new Error(`kubectl applied ${applied} of ${objectCount} objects: ${out}`);
    const used = cpu();
    return { ms, connections: (await connections(p)) - connectionsBefore, cpu: used };
  };

  const measureSequential = async (p: Path, namespace: string, keepAlive: boolean): Promise<ClientRun> => {
    const objects = objectsFor(namespace);
    const connectionsBefore = await connections(p);
    const cpu = cpuMeter(plane);
    const started = performance.now();
    await withTimeout('the sequential create-or-replace', DEPLOY_BOUND_MS, sequentialCreateOrReplace(p.kubeconfig, objects, { keepAlive }));
    const ms = performance.now() - started;
    const used = cpu();
    return { ms, connections: (await connections(p)) - connectionsBefore, cpu: used };
  };

  // Slipway's deployments are undeployed as a user would (the job deletes the namespace Slipway
  // made): a succeeded deployment is watched live until then, and must not keep watching an empty
  // namespace through the rounds after it.
  const undeploy = async (id: string): Promise<void> => {
    const response = await runtime.app.inject({ method: 'DELETE', url: `/api/v1/deployments/${id}`, headers: { authorization: token } });
    if (response.statusCode !== 202) throw new Error(`undeploy answered ${response.statusCode}: ${response.body}`);
    const until = Date.now() + DELETE_BOUND_MS;
    for (;;) {
      const { rows } = await runtime.pool.query<{ status: string }>('SELECT status FROM deployments WHERE id = $1', [id]);
      if (rows[0]?.status === 'deleted') return;
      if (rows[0]?.status === 'failed') throw new Error(`undeploying ${id} failed`);
      if (Date.now() > until) throw new Error(`deployment ${id} still ${rows[0]?.status ?? 'absent'} ${DELETE_BOUND_MS / 1000} s after its undeploy`);
      await sleep(100);
    }
  };

  const figures = new Map<Path, Figures>(paths.map((p) => [p, { slipway: [], kubectl: [], sequential: [], keepalive: [], deletes: [] }]));
  const rounds = WARM_UPS + RUNS;
  for (let round = 0; round < rounds; round += 1) {
    const timed = round >= WARM_UPS;
    for (const p of paths) {
      const order = APPROACHES.map((_, i) => APPROACHES[(i + round) % APPROACHES.length] as Approach);
      for (const approach of order) {
        const namespace = `bench-${approach}-${p.latencyMs}ms-${round}`;
        const f = figures.get(p) as Figures;
        let line: string;
        let undeployMs = 0;
        if (approach === 'slipway') {
          const run = await measureSlipway(p, namespace);
          if (timed) f.slipway.push(run);
          const undeployStarted = performance.now();
          await undeploy(run.id);
          undeployMs = performance.now() - undeployStarted;
          line = `applied ${run.appliedMs.toFixed(0)} ms (apply step ${run.applyStepMs.toFixed(0)} ms, ${run.applyRequests} requests, apiserver CPU ${run.applyCpu.apiserver} ms, etcd ${run.applyCpu.etcd} ms), succeeded ${run.succeededMs.toFixed(0)} ms;`;
          line += ` last Pod Ready → succeeded ${run.lastReadyMs.toFixed(0)} ms (watched ${run.watchedReadyMs.toFixed(0)} ms), last Deployment rolled out → succeeded ${run.rolledOutMs.toFixed(0)} ms; ${run.steps}`;
          line += `; whole deploy: cpu apiserver ${run.cpu.apiserver} ms, etcd ${run.cpu.etcd} ms, bench process ${run.cpu.bench.toFixed(0)} ms; ${run.connections} connections`;
        } else {
          const run = approach === 'kubectl' ? await measureKubectl(p, namespace) : await measureSequential(p, namespace, approach === 'keepalive');
          if (timed) f[approach].push(run);
          line = `${run.ms.toFixed(0)} ms; cpu apiserver ${run.cpu.apiserver} ms, etcd ${run.cpu.etcd} ms, bench process ${run.cpu.bench.toFixed(0)} ms; ${run.connections} connections`;
        }
        const deleted = undeployMs + (await deleteNamespace(core, namespace));
        if (timed) f.deletes.push(deleted);
        if (DETAIL) say(`${timed ? `round ${round - WARM_UPS + 1}` : `warm-up ${round + 1}`}, ${p.label}, ${approach}: ${line}; namespace deleted in ${deleted.toFixed(0)} ms`);
      }
    }
  }

  const ms = (values: readonly number[]): string => `${median(values).toFixed(0)} ms (${range(values)})`;
  const cpu = (samples: ReadonlyArray<{ apiserver: number; etcd: number }>): string =>
    `${median(samples.map((s) => s.apiserver)).toFixed(0)} / ${median(samples.map((s) => s.etcd)).toFixed(0)} ms`;
  const verdict = (ratio: number, goal: number): string => `**${ratio.toFixed(2)}×** (goal ≥ ${goal}×: ${ratio >= goal ? 'met' : 'NOT met'})`;
  say('');
  say(`Deploy of a ${NODES}-node pipeline (+ orchestrator: ${objectCount} objects) on the real kube-apiserver ${version}, 3 kwok Nodes; ${RUNS} timed rounds after ${WARM_UPS} untimed; median (range)`);
  say(`Machine: ${os.cpus().length} cores; load average (1, 5, 15 min) ${loadAtStart} when the plane was up, ${load()} at the end`);
  for (const p of paths) {
    const f = figures.get(p) as Figures;
    const applied = f.slipway.map((r) => r.appliedMs);
    const kubectl = f.kubectl.map((r) => r.ms);
    const sequential = f.sequential.map((r) => r.ms);
    const keepalive = f.keepalive.map((r) => r.ms);
    const roundRatios = (other: readonly number[]): string => {
      const ratios = other.map((value, i) => value / (applied[i] ?? NaN));
      return `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}× round by round`;
    };
    const conns = (runs: ReadonlyArray<{ connections: number }>): string => (p.proxy ? [...new Set(runs.map((r) => r.connections))].join('/') : '');
    say('');
    say(`${p.label}${p.latencyMs > 0 ? ` — every round trip ${2 * p.latencyMs} ms longer` : ''}:`);
    say('');
    say(`| | time | apiserver / etcd CPU | TCP connections${p.proxy ? '' : ' (counted through the proxy only)'} | goal |`);
    say('|---|---|---|---|---|');
    say(`| Slipway: request → every object applied | ${ms(applied)} | ${cpu(f.slipway.map((r) => r.applyCpu))} (apply step) | ${conns(f.slipway)} (whole deploy) | |`);
    const preflight = f.slipway.map((r) => r.preflightMs);
    if (preflight.every(Number.isFinite)) say(`| Slipway: the preflight step, before the apply (included above) | ${ms(preflight)} | | | |`);
    say(`| Slipway: the apply step alone (${[...new Set(f.slipway.map((r) => r.applyRequests))].join('/')} requests) | ${ms(f.slipway.map((r) => r.applyStepMs))} | | | |`);
    say(`| Slipway: request → succeeded | ${ms(f.slipway.map((r) => r.succeededMs))} | ${cpu(f.slipway.map((r) => r.cpu))} (whole deploy) | | |`);
    say(`| kubectl apply --server-side -f (until it exits) | ${ms(kubectl)} | ${cpu(f.kubectl.map((r) => r.cpu))} | ${conns(f.kubectl)} | ≥ ${GOAL_KUBECTL}× Slipway's applied |`);
    say(`| Sequential create-or-replace (the reference deployer's way; client library defaults) | ${ms(sequential)} | ${cpu(f.sequential.map((r) => r.cpu))} | ${conns(f.sequential)} | ≥ ${GOAL_SEQUENTIAL}× Slipway's applied |`);
    say(`| … the same over one kept-alive connection (for reference) | ${ms(keepalive)} | ${cpu(f.keepalive.map((r) => r.cpu))} | ${conns(f.keepalive)} | |`);
    say(`| Last Pod Ready (Ready lastTransitionTime, whole seconds) → succeeded | ${ms(f.slipway.map((r) => r.lastReadyMs))} | | | |`);
    say(`| Last Pod Ready as a watch saw it → succeeded | ${ms(f.slipway.map((r) => r.watchedReadyMs))} | | | |`);
    say(`| Last Deployment rolled out (status) as a watch saw it → succeeded | ${ms(f.slipway.map((r) => r.rolledOutMs))} | | | |`);
    say('');
    say(`- kubectl apply --server-side ÷ Slipway to all objects applied: ${verdict(median(kubectl) / median(applied), GOAL_KUBECTL)}; ${roundRatios(kubectl)}`);
    say(`- sequential create-or-replace ÷ Slipway to all objects applied: ${verdict(median(sequential) / median(applied), GOAL_SEQUENTIAL)}; ${roundRatios(sequential)}`);
    say(`- the same over one kept-alive connection ÷ Slipway: ${(median(keepalive) / median(applied)).toFixed(2)}×; ${roundRatios(keepalive)}`);
    say(`- namespace deletion between measurements (untimed): ${ms(f.deletes)}`);
  }
}

const watchdog = setTimeout(() => {
  say(`The real-apiserver deploy benchmark did not finish within ${DEADLINE_MS / 1000} s: stopping.`);
  void cleanup().then(() => process.exit(1));
}, DEADLINE_MS);
let stoppedBy: string | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stoppedBy = signal;
    say(`${signal}: stopping the control plane, the proxy and the service.`);
    void cleanup().then(() => process.exit(130));
  });
}
try {
  await main();
} catch (error: unknown) {
  process.exitCode = 1;
  if (stoppedBy === undefined) say(`The real-apiserver deploy benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
// Nothing of ours is left running; a lingering handle of a client library must not keep the run alive.
process.exit();
