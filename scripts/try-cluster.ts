/**
 * `npm run try-cluster`: a pretend cluster for trying Slipway by hand (TEST DOUBLES: the fake
 * Kubernetes API server and fake orchestrators of the test suite, see test/support/try-cluster.ts).
 * Writes its kube config to a file (mode 0600) and runs until interrupted.
 *   npm run try-cluster [-- <kubeconfig file>]      (default: ./data/try-cluster.kubeconfig)
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startTryCluster } from '../test/support/try-cluster.js';

const file = path.resolve(process.argv[2] ?? path.join(process.env.DATA_DIR ?? 'data', 'try-cluster.kubeconfig'));
const cluster = await startTryCluster({ onChange: (message) => process.stdout.write(`${message}\n`) });
await mkdir(path.dirname(file), { recursive: true });
await writeFile(file, cluster.kube.kubeconfig, { mode: 0o600 });
await chmod(file, 0o600);
process.stdout.write(
  [
    `A pretend cluster (test doubles, not Kubernetes) is answering at ${cluster.kube.url}.`,
    `Its kube config: ${file}`,
    'Upload or paste it on the deploy form of a running Slipway (npm start); deploy, and watch the',
    'pipeline reach "succeeded" with its web UI links (they lead nowhere: no model runs here).',
    'Ctrl-C stops it.',
    '',
  ].join('\n'),
);
const stop = (): void => {
  void cluster.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
