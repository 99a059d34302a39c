/**
 * `npm run kube:up -- --dir <dir>` / `npm run kube:down -- --dir <dir>`: a real Kubernetes control
 * plane on 127.0.0.1 (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok with
 * three Nodes), built from tools/kube the first time (several minutes), then ready in seconds.
 * Writes <dir>/kubeconfig (cluster admin, inline data) and <dir>/bin (the binaries: <dir>/bin/kubectl).
 */
import { startControlPlane, stopControlPlane } from '../test/support/real-kube.js';

const [command, ...rest] = process.argv.slice(2);
const at = rest.indexOf('--dir');
const dir = at >= 0 ? rest[at + 1] : undefined;
if ((command !== 'up' && command !== 'down') || dir === undefined || dir === '') {
  process.stderr.write('usage: npm run kube:up -- --dir <dir>   |   npm run kube:down -- --dir <dir>\n');
  process.exit(2);
}
try {
  if (command === 'up') {
    const plane = await startControlPlane(dir);
    process.stdout.write(
      [
        `A real Kubernetes control plane is running at ${plane.server} (kube-apiserver, etcd, controller manager, scheduler; kwok plays three Nodes).`,
        `Kube config: ${plane.kubeconfigFile}`,
        `kubectl:     ${plane.dir}/bin/kubectl --kubeconfig ${plane.kubeconfigFile} get nodes`,
        `Stop it:     npm run kube:down -- --dir ${dir}`,
        '',
      ].join('\n'),
    );
  } else {
    await stopControlPlane(dir);
    process.stdout.write(`Stopped the control plane in ${dir}.\n`);
  }
} catch (error: unknown) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
