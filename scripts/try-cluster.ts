/**
 * `npm run try-cluster`: a cluster for trying Slipway by hand. Where the real control plane can
 * be built (Go is installed; tools/kube), that one: kube-apiserver, etcd, controller manager and
 * scheduler, with kwok playing three Nodes at 127.0.0.1 — plus TEST DOUBLES for what it lacks: a
 * fake orchestrator at each orchestrator Service's node port and a stand-in volume provisioner
 * (test/support/real-kube-stand-ins.ts). Otherwise the test suite's fake API server and fake
 * orchestrators (test/support/try-cluster.ts). It says which one it started.
 * Writes its kube config to a file (mode 0600) and runs until interrupted.
 *   npm run try-cluster [-- <kubeconfig file>]      (default: ./data/try-cluster.kubeconfig)
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { realKubeUnavailable, startControlPlane } from '../test/support/real-kube.js';
import { startClusterStandIns } from '../test/support/real-kube-stand-ins.js';
import { startTryCluster } from '../test/support/try-cluster.js';

const dataDir = process.env.DATA_DIR ?? 'data';
const file = path.resolve(process.argv[2] ?? path.join(dataDir, 'try-cluster.kubeconfig'));
const say = (message: string): void => {
  process.stdout.write(`${message}\n`);
};

interface Started {
  kubeconfig: string;
  lines: string[];
  close(): Promise<void>;
}

async function start(): Promise<Started> {
  const unavailable = realKubeUnavailable();
  if (unavailable === undefined) {
    say('Building (the first time: several minutes) and starting a real Kubernetes control plane…');
    const plane = await startControlPlane(path.resolve(dataDir, 'try-cluster'));
    const standIns = startClusterStandIns(plane.kubeconfig, { onChange: say });
    return {
      kubeconfig: plane.kubeconfig,
      lines: [
        `A real Kubernetes control plane is answering at ${plane.server}: kube-apiserver, etcd, controller manager and scheduler; kwok plays three Nodes (no container runs).`,
        `Test doubles play the orchestrator at its node port and provision the shared folder's volume. kubectl: ${plane.dir}/bin/kubectl --kubeconfig ${file}`,
      ],
      close: async () => {
        await standIns.close();
        await plane.stop();
      },
    };
  }
  const cluster = await startTryCluster({ onChange: say });
  return {
    kubeconfig: cluster.kube.kubeconfig,
    lines: [`A pretend cluster (test doubles, not Kubernetes: ${unavailable}) is answering at ${cluster.kube.url}.`],
    close: () => cluster.close(),
  };
}

const started = await start();
await mkdir(path.dirname(file), { recursive: true });
await writeFile(file, started.kubeconfig, { mode: 0o600 });
await chmod(file, 0o600);
say(
  [
    ...started.lines,
    `Its kube config: ${file}`,
    'Upload or paste it on the deploy form of a running Slipway (npm start); deploy, and watch the',
    'pipeline reach "succeeded" with its web UI links (they lead nowhere: no model runs here).',
    'Ctrl-C stops it.',
    '',
  ].join('\n'),
);
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void started.close().then(() => process.exit(0), (error: unknown) => {
    process.stderr.write(`stopping failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
