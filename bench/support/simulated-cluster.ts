import type { ClusterClient } from '../../src/adapters/kubernetes/cluster-client.js';
import type { SafeKubeconfig } from '../../src/domain/kubeconfig.js';

/**
 * A SIMULATED cluster for the rollout benchmark: it only lists `nodesPerCluster` nodes named after
 * the kube config's server host; nothing else is called by a rollout whose installer is simulated.
 */
export function simulatedCluster(kubeconfig: SafeKubeconfig, nodesPerCluster: number): ClusterClient {
  const host = new URL(kubeconfig.server).hostname.split('.')[0] ?? 'site';
  const unused = async (): Promise<never> => {
    throw new Error('not used by the simulated rollout');
  };
  return {
    system: `simulated ${host}`,
    applyWaves: unused,
    readState: unused,
    listNodeAddresses: async () => Array.from({ length: nodesPerCluster }, (_, i) => ({ name: `${host}-node-${i}`, ready: true, internalIP: `10.0.${i}.1` })),
    getServiceNodePorts: unused,
    deleteByLabel: unused,
    deleteNamespace: unused,
    namespacePhase: unused,
    readLogs: unused,
    readObject: unused,
    serverVersion: unused,
    reviewAccess: unused,
    listObjects: unused,
    watchNamespace: () => { throw new Error('not used by the simulated rollout'); },
    requestCount: () => 0,
    preconnect: () => undefined,
    close: () => undefined,
  };
}
