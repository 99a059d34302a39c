/**
 * A cluster to try Slipway by hand, made of TEST DOUBLES — not a cluster: the fake Kubernetes
 * API server of the test suite (test/support/fake-kube) with one node whose address is
 * 127.0.0.1, and a fake orchestrator (test/support/fake-orchestrator) started on 127.0.0.1 at the
 * node port of every `orchestrator` Service applied to it, where a real cluster's kube-proxy
 * would forward that port to the orchestrator pod. So a deploy through the form goes all the way:
 * objects applied, pods "Ready", the orchestrator initialised and run, web UI links listed (the
 * links lead nowhere: no model runs). `npm run try-cluster` starts it (scripts/try-cluster.ts).
 */
import { startFakeKube, type FakeKube } from './fake-kube/index.js';
import { startFakeOrchestrator, type FakeOrchestrator } from './fake-orchestrator.js';

export interface TryCluster {
  kube: FakeKube;
  /** Orchestrators started so far, by `<namespace>/<node port>`. */
  orchestrators: ReadonlyMap<string, FakeOrchestrator>;
  close(): Promise<void>;
}

export interface TryClusterOptions {
  tickMs?: number;
  /** Told when an orchestrator starts or stops, or when its port is taken. */
  onChange?: (message: string) => void;
}

export async function startTryCluster(options: TryClusterOptions = {}): Promise<TryCluster> {
  const kube = await startFakeKube({ nodes: [{ name: 'node-1', internalIP: '127.0.0.1' }], tickMs: options.tickMs ?? 200 });
  const orchestrators = new Map<string, FakeOrchestrator>();
  const failed = new Set<string>();
  const say = options.onChange ?? (() => undefined);

  /** The wanted orchestrators: one per `orchestrator` Service with a protobuf-api node port. */
  const wanted = (): Map<string, number> => {
    const result = new Map<string, number>();
    for (const service of kube.listObjects('Service')) {
      if (service.metadata.name !== 'orchestrator') continue;
      const spec = (service as { spec?: { ports?: Array<{ name?: string; nodePort?: number }> } }).spec;
      const nodePort = spec?.ports?.find((port) => port.name === 'protobuf-api')?.nodePort;
      if (nodePort !== undefined) result.set(`${service.metadata.namespace ?? ''}/${nodePort}`, nodePort);
    }
    return result;
  };

  let syncing = false;
  const sync = async (): Promise<void> => {
    if (syncing) return;
    syncing = true;
    try {
      const want = wanted();
      for (const [key, port] of want) {
        if (orchestrators.has(key) || failed.has(key)) continue;
        try {
          orchestrators.set(key, await startFakeOrchestrator({ port }));
          say(`fake orchestrator for ${key.split('/')[0]} listening on 127.0.0.1:${port}`);
        } catch (error: unknown) {
          failed.add(key);
          say(`cannot listen on 127.0.0.1:${port} for ${key.split('/')[0]}'s orchestrator: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      for (const [key, orchestrator] of orchestrators) {
        if (want.has(key)) continue;
        orchestrators.delete(key);
        await orchestrator.close();
        say(`fake orchestrator for ${key.split('/')[0]} stopped (its Service is gone)`);
      }
    } finally {
      syncing = false;
    }
  };
  const timer = setInterval(() => void sync(), 100);

  return {
    kube,
    orchestrators,
    close: async () => {
      clearInterval(timer);
      for (const orchestrator of orchestrators.values()) await orchestrator.close();
      orchestrators.clear();
      await kube.close();
    },
  };
}
