/**
 * Nodes that join a cluster later get its current packages: periodically (one replica at a
 * time), for every ready cluster with packages and no rollout under way, list its Kubernetes
 * Nodes and enqueue a rollout limited to those no rollout has planned for yet (cluster_nodes).
 * The rollout records them as it plans, so each new Node is taken up once; a Node whose install
 * fails is not retried behind the operator's back (POST …/package-rollouts does that).
 */
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { inTransaction, type Pool } from '../../adapters/db/pool.js';
import type { SecretBox } from '../../adapters/crypto/secret-box.js';
import type { ClusterClient } from '../../adapters/kubernetes/cluster-client.js';
import { mapBounded } from '../../adapters/map-bounded.js';
import type { SafeKubeconfig } from '../../domain/kubeconfig.js';
import { startPeriodic } from '../../jobs/periodic.js';
import type { JobQueue } from '../../jobs/queue.js';
import { openClusterKubeconfig } from '../clusters/service.js';
import { getCluster } from '../clusters/store.js';
import { clustersToSync, unseenNodes } from './catalog.js';
import { enqueueRollout } from './rollout-jobs.js';

/** Clusters whose Nodes are listed at once. */
const CONCURRENCY = 4;
/** Advisory lock key: one replica syncs at a time. */
const SYNC_LOCK = 0x5_11b_7a2;
/** Listing a cluster's Nodes gives up after this long; the next round tries again. */
const LIST_TIMEOUT_MS = 10_000;

export interface NodeSyncDeps {
  config: Config;
  pool: Pool;
  queue: JobQueue;
  secretBox: SecretBox;
  connectCluster: (kubeconfig: SafeKubeconfig) => ClusterClient;
  log: Logger;
}

export class PackageNodeSync {
  constructor(private readonly deps: NodeSyncDeps) {}

  /** One round over every cluster; returns the rollout jobs it enqueued, by cluster id. */
  async syncAll(): Promise<Map<string, string>> {
    const started = new Map<string, string>();
    await mapBounded(await clustersToSync(this.deps.pool), CONCURRENCY, async (clusterId) => {
      try {
        const job = await this.syncCluster(clusterId);
        if (job !== undefined) started.set(clusterId, job);
      } catch (error: unknown) {
        this.deps.log.warn({ err: error, clusterId }, 'could not compare the cluster\'s Nodes with its package rollouts');
      }
    });
    if (started.size > 0) this.deps.queue.wake('package-rollout');
    return started;
  }

  startPeriodic(intervalMs: number): () => void {
    return startPeriodic(this.deps.pool, this.deps.log, { name: 'package node sync', lockKey: SYNC_LOCK, intervalMs, run: async () => void (await this.syncAll()) });
  }

  private async syncCluster(clusterId: string): Promise<string | undefined> {
    const cluster = await getCluster(this.deps.pool, clusterId);
    const kubeconfig = cluster ? await openClusterKubeconfig(this.deps, clusterId) : undefined;
    if (!cluster || !kubeconfig) return undefined;
    const client = this.deps.connectCluster(kubeconfig);
    let names: string[];
    try {
      names = (await withTimeout(client.listNodeAddresses(), LIST_TIMEOUT_MS, `listing the Nodes of cluster ${cluster.name}`)).map((node) => node.name);
    } finally {
      client.close();
    }
    const fresh = await unseenNodes(this.deps.pool, clusterId, names);
    if (fresh.length === 0) return undefined;
    const job = await inTransaction(this.deps.pool, (tx) =>
      enqueueRollout(tx, this.deps.queue, cluster.owner, { clusterId, nodes: fresh, reason: `new node(s): ${fresh.join(', ')}` }, this.deps.config.packageInstallTimeoutMs * 10),
    );
    this.deps.log.info({ clusterId, nodes: fresh, jobId: job.id }, 'new Nodes: rollout of the current packages enqueued');
    return job.id;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
