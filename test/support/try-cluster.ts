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
import type { FakeOrchestrator } from './fake-orchestrator.js';
import { followOrchestratorServices, type ServiceLike } from './node-port-orchestrators.js';

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
  const followed = followOrchestratorServices(() => kube.listObjects('Service') as ServiceLike[], { ...(options.onChange ? { onChange: options.onChange } : {}) });
  return {
    kube,
    orchestrators: followed.orchestrators,
    close: async () => {
      await followed.close();
      await kube.close();
    },
  };
}
