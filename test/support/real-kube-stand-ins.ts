/**
 * What a real cluster has besides its control plane, played for the real control plane of
 * test/support/real-kube.ts — TEST DOUBLES, each saying so:
 * - kube-proxy and the orchestrator pod: a fake orchestrator on 127.0.0.1 at every orchestrator
 *   Service's node port (test/support/node-port-orchestrators.ts);
 * - a storage provisioner: for every Pending PersistentVolumeClaim a hostPath PersistentVolume of
 *   its size, access modes and class, reserved for it (claimRef), which the real PV controller
 *   then binds. Nothing is written to the host path: no pod runs.
 */
import { CoreV1Api, KubeConfig, type V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { followOrchestratorServices, type NodePortOrchestrators } from './node-port-orchestrators.js';

export interface ClusterStandIns extends NodePortOrchestrators {
  /** PersistentVolumes made so far, by claim `<namespace>/<name>`. */
  volumes: ReadonlySet<string>;
}

export function clusterApi(kubeconfig: string): CoreV1Api {
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  return config.makeApiClient(CoreV1Api);
}

export function startClusterStandIns(kubeconfig: string, options: { onChange?: (message: string) => void; intervalMs?: number } = {}): ClusterStandIns {
  const api = clusterApi(kubeconfig);
  const say = options.onChange ?? (() => undefined);
  const volumes = new Set<string>();
  const followed = followOrchestratorServices(async () => (await api.listServiceForAllNamespaces()).items as never, { intervalMs: options.intervalMs ?? 200, onChange: say });

  let busy = false;
  const provision = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const claims = (await api.listPersistentVolumeClaimForAllNamespaces()).items;
      for (const claim of claims.filter((c) => c.status?.phase === 'Pending' && !c.spec?.volumeName)) {
        const key = `${claim.metadata?.namespace ?? ''}/${claim.metadata?.name ?? ''}`;
        if (volumes.has(key)) continue;
        volumes.add(key);
        await api.createPersistentVolume({ body: volumeFor(claim) });
        say(`test-double provisioner: PersistentVolume for claim ${key}`);
      }
    } catch {
      // The apiserver did not answer this time, or the volume exists: look again at the next tick.
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void provision(), options.intervalMs ?? 200);

  return {
    orchestrators: followed.orchestrators,
    volumes,
    async close() {
      clearInterval(timer);
      while (busy) await new Promise((resolve) => setTimeout(resolve, 10));
      await followed.close();
    },
  };
}

function volumeFor(claim: V1PersistentVolumeClaim) {
  const namespace = claim.metadata?.namespace ?? '';
  const name = claim.metadata?.name ?? '';
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { generateName: 'test-double-pv-', labels: { 'slipway.io/test-double': 'volume' } },
    spec: {
      capacity: { storage: claim.spec?.resources?.requests?.storage ?? '1Gi' },
      accessModes: claim.spec?.accessModes ?? ['ReadWriteMany'],
      storageClassName: claim.spec?.storageClassName ?? '',
      persistentVolumeReclaimPolicy: 'Retain',
      hostPath: { path: `/tmp/slipway-test-double-volumes/${namespace}/${name}` },
      claimRef: { namespace, name, ...(claim.metadata?.uid ? { uid: claim.metadata.uid } : {}) },
    },
  };
}
