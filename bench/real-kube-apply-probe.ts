/**
 * Where the time of Slipway's apply goes on the real apiserver (issue 14; docs/benchmarks.md): the
 * cluster client alone (no service, no database), applying the 50-node pipeline's waves —
 * Namespace, 51 Services, 51 Deployments — at several concurrencies, straight to the apiserver and
 * through the latency proxy; each wave timed, the apiserver's and etcd's CPU counted; then, 8 s
 * later, one readiness read of the namespace (`readState`: five lists, ≈ 600 KiB).
 * `--node-default-windows` gives the HTTP/2 connection Node's default flow-control windows
 * (64 KiB) instead of the transport's, to see what the windows cost.
 * Run: npx tsx bench/real-kube-apply-probe.ts [latencyMs=5] [concurrencies=64,8,1]   (BENCH_RUNS rounds, 2)
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { realKubeUnavailable, startControlPlane, stopControlPlane } from '../test/support/real-kube.js';
import { createClusterClient } from '../src/adapters/kubernetes/cluster-client.js';
import { parseKubeconfig } from '../src/domain/kubeconfig.js';
import { loadConfig } from '../src/config.js';
import { renderForConfig } from '../src/services/manifests.js';
import { benchPipeline, median } from './support/deploy-bench.js';
import { startLatencyProxyProcess, type LatencyProxy } from './support/latency-proxy.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const LATENCY = Number(args[0] ?? 5);
const CONCURRENCIES = (args[1] ?? '64,8,1').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_RUNS ?? 2);
const NODE_DEFAULT_WINDOWS = process.argv.includes('--node-default-windows');

if (NODE_DEFAULT_WINDOWS) {
  const connect = http2.connect;
  (http2 as { connect: typeof http2.connect }).connect = ((authority: string, options?: http2.ClientSessionOptions) => {
    const { settings: _settings, ...rest } = options ?? {};
    const session = connect(authority, rest);
    session.setLocalWindowSize = () => undefined;
    return session;
  }) as typeof http2.connect;
}

const unavailable = realKubeUnavailable();
if (unavailable) {
  process.stdout.write(`Real-apiserver apply probe skipped: ${unavailable}.\n`);
  process.exit(0);
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'slipway-bench-probe-'));
let proxy: LatencyProxy | undefined;
const watchdog = setTimeout(() => {
  process.stdout.write('The probe did not finish within 20 min: stopping.\n');
  void stopControlPlane(dir).finally(() => process.exit(1));
}, 20 * 60_000);
try {
  const plane = await startControlPlane(dir);
  const server = new URL(plane.server);
  const targets: Array<[string, string]> = [['direct', plane.kubeconfig]];
  if (LATENCY > 0) {
    proxy = await startLatencyProxyProcess({ host: server.hostname, port: Number(server.port) }, LATENCY);
    targets.push([`+${LATENCY} ms each way`, plane.kubeconfig.replace(/(server:\s*)https:\/\/127\.0\.0\.1:\d+/, `$1https://127.0.0.1:${proxy.port}`)]);
  }
  const config = loadConfig({ DATA_DIR: dir, JWT_SECRET: 'probe-secret-probe-secret-probe!' });
  const solution = benchPipeline(50);
  const kc = new KubeConfig();
  kc.loadFromString(plane.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const pidDir = path.join(plane.dir, 'kwok/clusters/slipway/pids');
  const cpu = (): number =>
    ['kube-apiserver', 'etcd'].reduce((sum, name) => {
      const stat = readFileSync(`/proc/${readFileSync(path.join(pidDir, `${name}.pid`), 'utf8').trim()}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return sum + (Number(fields[11]) + Number(fields[12])) * 10;
    }, 0);
  const results = new Map<string, { total: number[]; waves: number[][]; cpu: number[]; read: number[] }>();
  let n = 0;
  // Round 0 warms up (TLS contexts, code paths) and is not counted.
  for (let round = 0; round <= ROUNDS; round += 1) {
    for (const [label, kubeconfig] of targets) {
      for (const concurrency of CONCURRENCIES) {
        const namespace = `probe-${n++}`;
        const rendered = renderForConfig(solution, config, namespace, '00000000-0000-4000-8000-000000000000');
        const client = createClusterClient(parseKubeconfig(kubeconfig, { allowInsecure: false }));
        client.preconnect();
        await new Promise((resolve) => setTimeout(resolve, 300));
        const waves: number[] = [];
        const cpuBefore = cpu();
        const started = performance.now();
        let last = started;
        for (const wave of [[rendered.namespaceObject], rendered.services, rendered.deployments]) {
          await client.applyWaves([wave], { fieldManager: 'slipway', concurrency });
          const now = performance.now();
          waves.push(now - last);
          last = now;
        }
        const total = performance.now() - started;
        const used = cpu() - cpuBefore;
        await new Promise((resolve) => setTimeout(resolve, 8000));
        const readStarted = performance.now();
        await client.readState(namespace);
        const read = performance.now() - readStarted;
        client.close();
        if (round > 0) {
          const key = `${label}, concurrency ${concurrency}`;
          const r = results.get(key) ?? { total: [], waves: [[], [], []], cpu: [], read: [] };
          r.total.push(total);
          waves.forEach((ms, i) => r.waves[i]?.push(ms));
          r.cpu.push(used);
          r.read.push(read);
          results.set(key, r);
        }
        await core.deleteNamespace({ name: namespace });
        for (let i = 0; i < 900; i += 1) {
          if (await core.readNamespace({ name: namespace }).then(() => false, () => true)) break;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    }
  }
  const f = (values: readonly number[]): string => `${median(values).toFixed(0)} (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)})`;
  process.stdout.write(`HTTP/2 windows: ${NODE_DEFAULT_WINDOWS ? "Node's defaults (64 KiB)" : "the transport's"}; ${ROUNDS} rounds after one untimed; ms, median (range)\n\n`);
  process.stdout.write('| | apply, all waves | Namespace | 51 Services | 51 Deployments | apiserver + etcd CPU | readState 8 s later |\n|---|---|---|---|---|---|---|\n');
  for (const [key, r] of results) {
    process.stdout.write(`| ${key} | ${f(r.total)} | ${f(r.waves[0] ?? [])} | ${f(r.waves[1] ?? [])} | ${f(r.waves[2] ?? [])} | ${f(r.cpu)} | ${f(r.read)} |\n`);
  }
} finally {
  clearTimeout(watchdog);
  await proxy?.close();
  await stopControlPlane(dir).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
