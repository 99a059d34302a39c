/**
 * TEST DOUBLE standing in for kube-proxy and the orchestrator pod: a fake orchestrator
 * (test/support/fake-orchestrator) started on 127.0.0.1 at the node port of every `orchestrator`
 * Service a cluster has — the fake API server's or a real apiserver's — where a real cluster would
 * forward that port to the orchestrator pod (the Nodes' InternalIP is 127.0.0.1). Stopped when
 * its Service goes.
 */
import { startFakeOrchestrator, type FakeOrchestrator } from './fake-orchestrator.js';

export interface ServiceLike {
  metadata: { name?: string; namespace?: string };
  spec?: { ports?: Array<{ name?: string; nodePort?: number }> };
}

export interface NodePortOrchestrators {
  /** Orchestrators running, by `<namespace>/<node port>`. */
  orchestrators: ReadonlyMap<string, FakeOrchestrator>;
  close(): Promise<void>;
}

export function followOrchestratorServices(
  services: () => Promise<readonly ServiceLike[]> | readonly ServiceLike[],
  options: { intervalMs?: number; onChange?: (message: string) => void } = {},
): NodePortOrchestrators {
  const orchestrators = new Map<string, FakeOrchestrator>();
  const failed = new Set<string>();
  const say = options.onChange ?? (() => undefined);

  const wanted = async (): Promise<Map<string, number>> => {
    const result = new Map<string, number>();
    for (const service of await services()) {
      if (service.metadata.name !== 'orchestrator') continue;
      const nodePort = service.spec?.ports?.find((port) => port.name === 'protobuf-api')?.nodePort;
      if (nodePort !== undefined) result.set(`${service.metadata.namespace ?? ''}/${nodePort}`, nodePort);
    }
    return result;
  };

  let syncing = false;
  let closed = false;
  const sync = async (): Promise<void> => {
    if (syncing || closed) return;
    syncing = true;
    try {
      const want = await wanted();
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
    } catch {
      // The cluster did not answer this time: look again at the next tick.
    } finally {
      syncing = false;
    }
  };
  const timer = setInterval(() => void sync(), options.intervalMs ?? 100);

  return {
    orchestrators,
    async close() {
      closed = true;
      clearInterval(timer);
      while (syncing) await new Promise((resolve) => setTimeout(resolve, 10));
      for (const orchestrator of orchestrators.values()) await orchestrator.close();
      orchestrators.clear();
    },
  };
}
