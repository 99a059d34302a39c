import type { Config } from '../../config.js';
import type { DownloadSigner } from '../../services/packages/download-url.js';
import type { Pool } from '../../adapters/db/pool.js';
import type { SecretBox } from '../../adapters/crypto/secret-box.js';
import type { ClusterClient } from '../../adapters/kubernetes/cluster-client.js';
import type { SafeKubeconfig } from '../../domain/kubeconfig.js';
import type { Cluster } from '../../services/clusters/model.js';
import { openClusterKubeconfig } from '../../services/clusters/service.js';
import { getCluster } from '../../services/clusters/store.js';
import { currentPackages, installedPackages, listPackages, recordInstalled, recordNodesSeen } from '../../services/packages/catalog.js';
import { createJobInstaller } from '../../services/packages/install-job.js';
import { planRollout } from '../../services/packages/rollout-plan.js';
import { rolloutPackages, type NodeRolloutResult, type PackageInstaller } from '../../services/packages/rollout.js';
import type { RolloutJobInput } from '../../services/packages/rollout-jobs.js';
import { AppError } from '../../errors.js';
import type { JobContext, JobHandler, JobOutcome } from '../runner.js';
import { ensureNamespace } from './bootstrap.js';

/** How a node gets its packages: a Job per node on the cluster (default), or a simulated installer (benchmark, tests). */
export type InstallerFactory = (target: { cluster: Cluster; client: ClusterClient; jobId: string; signal: AbortSignal }) => Promise<PackageInstaller>;

export interface PackageRolloutDeps {
  config: Config;
  pool: Pool;
  secretBox: SecretBox;
  connectCluster: (kubeconfig: SafeKubeconfig) => ClusterClient;
  /** Signs each install Job's download link (the Job has no other credential). */
  downloads: DownloadSigner;
  installer?: InstallerFactory;
}

/**
 * The package-rollout job: plan from what each node has (only nodes whose versions differ, only
 * the packages that differ), then install batch after batch. Every node's status is an event as
 * it changes and is in the job's result; a node's installed versions are recorded as soon as it
 * succeeds, so a rollout run again (or the next one) skips it.
 */
export function packageRolloutHandler(deps: PackageRolloutDeps): JobHandler {
  return {
    async run(ctx) {
      const input = ctx.job.input as unknown as RolloutJobInput;
      const cluster = await getCluster(deps.pool, input.clusterId);
      const kubeconfig = cluster ? await openClusterKubeconfig(deps, cluster.id) : undefined;
      if (!cluster || !kubeconfig) throw new AppError('cluster_not_found', 404, `Cluster ${input.clusterId} no longer exists or has no kube config`);
      const client = deps.connectCluster(kubeconfig);
      try {
        const plan = await ctx.step('plan rollout', async () => {
          const nodes = input.nodes ?? (cluster.nodes.length > 0 ? cluster.nodes.map((n) => n.name) : (await client.listNodeAddresses()).map((n) => n.name));
          const planned = planRollout(await installedPackages(deps.pool, cluster.id, nodes), await currentPackages(deps.pool, cluster.id), deps.config.rolloutBatchSize);
          await recordNodesSeen(deps.pool, cluster.id, nodes);
          const installs = planned.batches.flat();
          await ctx.event('rollout.plan', `${input.reason}: ${installs.length} of ${nodes.length} node(s) need packages (${installs.map((i) => i.node).join(', ') || 'none'}); up to date: ${planned.upToDate.join(', ') || 'none'}`, {
            desired: planned.desired, batches: planned.batches, upToDate: planned.upToDate,
          });
          return planned;
        }, (p) => `${p.batches.flat().length} node(s) in ${p.batches.length} batch(es), ${p.upToDate.length} up to date`);
        const installer = await installerFor(deps, cluster, client, ctx);
        const outcome = await ctx.step('install packages', () => rolloutPackages(installer, plan, {
          concurrency: deps.config.rolloutBatchSize,
          signal: ctx.signal,
          onNode: (node) => reportNode(ctx, deps.pool, cluster.id, node),
        }), (o) => `${o.nodes.filter((n) => n.status === 'installed').length} of ${o.nodes.length} node(s) installed`);
        return outcomeOf(outcome.status, outcome.nodes, plan.upToDate);
      } finally {
        client.close();
      }
    },
  };
}

async function installerFor(deps: PackageRolloutDeps, cluster: Cluster, client: ClusterClient, ctx: JobContext): Promise<PackageInstaller> {
  if (deps.installer) return deps.installer({ cluster, client, jobId: ctx.job.id, signal: ctx.signal });
  await ensureNamespace(client, deps.config.packagesNamespace, ctx.signal);
  const base = deps.config.publicUrl ?? `http://${deps.config.host}:${deps.config.port}`;
  const digests = new Map((await listPackages(deps.pool, cluster.id)).map((p) => [`${p.name}@${p.version}`, p.sha256]));
  return createJobInstaller(client, {
    namespace: deps.config.packagesNamespace,
    image: deps.config.packageInstallerImage,
    jobId: ctx.job.id,
    timeoutMs: deps.config.packageInstallTimeoutMs,
    pollMs: deps.config.bootstrapPollMs,
    sourceOf: (name, version) => ({ url: `${base}${deps.downloads.sign({ clusterId: cluster.id, name, version })}`, sha256: digests.get(`${name}@${version}`) ?? '' }),
  });
}

/** `pending` is in the plan event already; every later change is one event, an install one more write. */
async function reportNode(ctx: JobContext, pool: Pool, clusterId: string, node: NodeRolloutResult): Promise<void> {
  if (node.status === 'pending') return;
  if (node.status === 'installed') await recordInstalled(pool, clusterId, node.node, node.packages, ctx.job.id);
  const what = Object.entries(node.packages).map(([name, version]) => `${name}=${version}`).join(' ');
  await ctx.event('node', `${node.node}: ${node.status}${node.status === 'failed' ? `: ${node.error ?? ''}` : ` (${what})`}`, node);
}

function outcomeOf(status: 'succeeded' | 'partially_failed' | 'failed', nodes: NodeRolloutResult[], upToDate: string[]): JobOutcome {
  const failed = nodes.filter((n) => n.status === 'failed');
  const skipped = nodes.filter((n) => n.status === 'skipped');
  return {
    status,
    result: { nodes, upToDate },
    ...(status === 'succeeded' ? {} : {
      error: {
        code: 'nodes_failed',
        message: `${failed.length} of ${nodes.length} node(s) failed (${failed.map((n) => `${n.node}: ${n.error ?? ''}`).join('; ')})${skipped.length > 0 ? `; ${skipped.length} skipped after the failure` : ''}`,
        details: { failed: failed.map((n) => n.node), skipped: skipped.map((n) => n.node) },
      },
    }),
  };
}
