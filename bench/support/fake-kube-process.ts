/**
 * The fake Kubernetes API server (a test double) in a process of its own, so that its simulated
 * controllers do not share the CPU of the service being measured. Prints one JSON line
 * `{ "kubeconfig": … }` when ready, then answers stdin commands, one per line:
 * `latency <ms>` → `ok`; `reset` → `ok`; `count [epoch ms]` → `{"requests": n, "patches": n}`;
 * `purge <namespace>` → `ok` (the namespace and everything in it gone at once, so that each timed
 * run meets the same cluster).
 */
import readline from 'node:readline';
import { startFakeKube } from '../../test/support/fake-kube/index.js';

// Controllers tick slowly here: on a real cluster they do not share the API server's thread.
const kube = await startFakeKube({ tickMs: Number(process.env.FAKE_KUBE_TICK_MS ?? 500) });
process.stdout.write(`${JSON.stringify({ kubeconfig: kube.kubeconfig })}\n`);
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [command, argument] = line.trim().split(/\s+/);
  if (command === 'latency') {
    kube.setLatency(Number(argument));
    process.stdout.write('ok\n');
  } else if (command === 'reset') {
    kube.resetRequests();
    process.stdout.write('ok\n');
  } else if (command === 'purge') {
    for (const object of kube.listObjects()) {
      const { namespace, name } = object.metadata;
      if (namespace === argument || (object.kind === 'Namespace' && name === argument)) {
        kube.deleteObject(object.apiVersion, object.kind, namespace, name ?? '');
      }
    }
    process.stdout.write('ok\n');
  } else if (command === 'count') {
    // `count <epoch ms>` counts the requests received up to then.
    const until = argument === undefined ? Infinity : Number(argument);
    const counted = kube.requests.filter((r) => r.at <= until);
    process.stdout.write(`${JSON.stringify({ requests: counted.length, patches: counted.filter((r) => r.method === 'PATCH').length })}\n`);
  }
});
lines.on('close', () => {
  void kube.close().then(() => process.exit(0));
});
