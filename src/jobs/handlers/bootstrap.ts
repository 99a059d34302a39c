import type { KubernetesObject } from '@kubernetes/client-node';
import type { Config } from '../../config.js';
import { inTransaction, type Pool } from '../../adapters/db/pool.js';
import type { SecretBox } from '../../adapters/crypto/secret-box.js';
import { FIELD_MANAGER } from '../../adapters/kubernetes/apply.js';
import type { ClusterClient } from '../../adapters/kubernetes/cluster-client.js';
import type { SafeKubeconfig } from '../../domain/kubeconfig.js';
import { runClusterApiBootstrap, runKudBootstrap } from '../../services/bootstrap/index.js';
import type { BootstrapJobInput } from '../../services/clusters/bootstrap.js';
import { clusterKubeconfigContext } from '../../services/clusters/service.js';
import { getCluster, setClusterReady, setClusterStatus } from '../../services/clusters/store.js';
import { currentPackages } from '../../services/packages/catalog.js';
import { enqueueRollout } from '../../services/packages/rollout-jobs.js';
import { AppError } from '../../errors.js';
import type { JobQueue } from '../queue.js';
import type { JobHandler } from '../runner.js';

export interface BootstrapDeps {
  config: Config;
  pool: Pool;
  queue: JobQueue;
  secretBox: SecretBox;
  connectCluster: (kubeconfig: SafeKubeconfig) => ClusterClient;
  /** The bootstrap (or management) cluster's kube config, read from BOOTSTRAP_KUBECONFIG at boot. */
  bootstrapKubeconfig: SafeKubeconfig | undefined;
}

class ClusterGoneError extends AppError {
  constructor(id: string) {
    super('cluster_not_found', 404, `Cluster ${id} no longer exists`);
  }
}

/** Server-side apply of the namespace: the installer's objects go there. Already there counts as done. */
export async function ensureNamespace(client: ClusterClient, namespace: string, signal: AbortSignal): Promise<void> {
  if ((await client.namespacePhase(namespace)) === 'active') return;
  const object: KubernetesObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'app.kubernetes.io/managed-by': 'slipway' } } };
  await client.applyWaves([[object]], { fieldManager: FIELD_MANAGER, concurrency: 1, signal });
}

/**
 * The bootstrap and scale-out jobs: the engine (KUD installer Job, or Cluster API) runs with the
 * job context as its reporter; the new cluster's kube config is sealed into the registry and the
 * cluster becomes `ready` — a deploy target by its id. A scale-out then rolls the cluster's
 * current packages out to the new nodes. A failed bootstrap leaves the cluster `failed` with the
 * reason; a failed scale-out leaves it `ready` (it still runs) with the reason.
 */
export function bootstrapHandler(kind: 'bootstrap' | 'scale-out', deps: BootstrapDeps): JobHandler {
  return {
    async run(ctx) {
      const input = ctx.job.input as unknown as BootstrapJobInput;
      const cluster = await getCluster(deps.pool, input.clusterId);
      if (!cluster) throw new ClusterGoneError(input.clusterId);
      if (!deps.bootstrapKubeconfig) throw new AppError('bootstrap_not_configured', 503, 'This service has no BOOTSTRAP_KUBECONFIG: clusters cannot be bootstrapped');
      const client = deps.connectCluster(deps.bootstrapKubeconfig);
      try {
        await ensureNamespace(client, deps.config.bootstrapNamespace, ctx.signal);
        const common = {
          jobId: ctx.job.id,
          namespace: deps.config.bootstrapNamespace,
          timeoutMs: deps.config.bootstrapTimeoutMs,
          pollMs: deps.config.bootstrapPollMs,
          kubeconfig: { allowInsecure: deps.config.allowInsecureClusters },
        };
        const result = input.request.engine === 'cluster-api' && input.capi
          ? await runClusterApiBootstrap(client, input.request, input.hosts, ctx, { ...common, ...input.capi })
          : await runKudBootstrap(client, input.request, input.hosts, ctx, { ...common, image: deps.config.kudInstallerImage, ...(input.scaleOut ? { scaleOut: input.scaleOut } : {}) });
        const members = new Set([...result.plan.split.controlPlane, ...result.plan.split.workers]);
        const rolloutJobId = await ctx.step('register cluster', () => inTransaction(deps.pool, async (tx) => {
          await setClusterReady(tx, cluster.id, {
            server: result.kubeconfig.server,
            sealedKubeconfig: deps.secretBox.seal(JSON.stringify(result.kubeconfig), clusterKubeconfigContext(cluster.id)),
            plan: result.plan,
            nodes: input.hosts.filter((h) => members.has(h.name)),
          });
          if (kind !== 'scale-out' || !input.scaleOut || Object.keys(await currentPackages(tx, cluster.id)).length === 0) return null;
          const job = await enqueueRollout(tx, deps.queue, cluster.owner, { clusterId: cluster.id, nodes: input.scaleOut, reason: 'scale-out' }, deps.config.packageInstallTimeoutMs * 10);
          return job.id;
        }), (jobId) => `cluster ${cluster.name} ready at ${result.kubeconfig.server}${jobId ? `; packages roll out to the new nodes in job ${jobId}` : ''}`);
        if (rolloutJobId) deps.queue.wake('package-rollout');
        return {
          status: 'succeeded',
          result: { clusterId: cluster.id, server: result.kubeconfig.server, controlPlane: result.plan.split.controlPlane, workers: result.plan.split.workers, ...(input.scaleOut ? { added: input.scaleOut } : {}), rolloutJobId },
        };
      } finally {
        client.close();
      }
    },
    async finished(job, status, outcome) {
      if (status === 'succeeded') return;
      const clusterId = String(job.input.clusterId ?? job.subjectId);
      const error = outcome.error ?? { code: status, message: `The ${kind} job ended ${status}` };
      await setClusterStatus(deps.pool, clusterId, kind === 'bootstrap' ? 'failed' : 'ready', error);
    },
  };
}
