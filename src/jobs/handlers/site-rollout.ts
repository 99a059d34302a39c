import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from '../../adapters/db/pool.js';
import type { BootstrapService } from '../../services/clusters/bootstrap.js';
import { ownerPrincipal } from '../../services/clusters/bootstrap.js';
import type { DeploymentService } from '../../services/deployments/service.js';
import type { SiteRolloutJobInput } from '../../services/sites/rollout.js';
import type { SiteService } from '../../services/sites/service.js';
import { listHosts } from '../../services/sites/store.js';
import { AppError } from '../../errors.js';
import { isFinal, type JobRecord } from '../model.js';
import { getJob, listEvents, requestCancel } from '../store.js';
import type { JobContext, JobHandler } from '../runner.js';

export interface SiteRolloutDeps {
  pool: Pool;
  sites: SiteService;
  bootstrap: BootstrapService;
  deployments: DeploymentService;
  /** Between reads of a child job (default 300 ms). */
  pollMs?: number;
}

export class ChildJobFailedError extends AppError {
  constructor(label: string, child: JobRecord) {
    super('child_job_failed', 422, `${label} (job ${child.id}) ended ${child.status}: ${child.error?.message ?? 'no reason given'}`, { childJobId: child.id, childKind: child.kind, childError: child.error });
  }
}

/**
 * The site-rollout job: provisioning → bootstrap → (optionally) deploy, each a child job created
 * with this job as parent and followed to its end; every event of a child is copied into this
 * job's events (so the parent's stream shows the children), and a child's failure fails the
 * parent with the child's reason. Authorisation was checked when the rollout was asked for; the
 * children run as its owner.
 */
export function siteRolloutHandler(deps: SiteRolloutDeps): JobHandler {
  return {
    async run(ctx) {
      const input = ctx.job.input as unknown as SiteRolloutJobInput;
      const principal = ownerPrincipal(ctx.job.owner);
      const result: Record<string, string | null> = { provisionJobId: null, bootstrapJobId: null, clusterId: null, deploymentId: null, deployJobId: null };

      const hosts = await listHosts(deps.pool, input.site, input.hosts);
      const toProvision = hosts.filter((h) => h.state !== 'provisioned').map((h) => h.name);
      if (toProvision.length === 0) await ctx.skip('provision hosts', 'every host is provisioned already');
      else {
        await ctx.step('provision hosts', async () => {
          const child = await deps.sites.startJob(principal, input.site, 'provision', { hosts: toProvision, ...(input.image ? { image: input.image } : {}) }, true, { parentId: ctx.job.id });
          result.provisionJobId = child.id;
          return follow(ctx, deps, child.id, 'provision');
        }, () => `${toProvision.length} host(s) provisioned`);
      }

      const cluster = await ctx.step('bootstrap cluster', async () => {
        const started = await deps.bootstrap.start(principal, input.site, input.cluster, true, { parentId: ctx.job.id });
        result.bootstrapJobId = started.job.id;
        result.clusterId = started.cluster.id;
        await follow(ctx, deps, started.job.id, 'bootstrap');
        return started.cluster;
      }, (c) => `cluster ${c.name} (${c.id}) ready`);

      if (input.deploy) {
        const deploy = input.deploy;
        await ctx.step('deploy solution', async () => {
          const deployment = await deps.deployments.create(principal, { ...deploy, clusterId: cluster.id, parentId: ctx.job.id }, true);
          result.deploymentId = deployment.id;
          result.deployJobId = deployment.jobId;
          if (deployment.jobId) await follow(ctx, deps, deployment.jobId, 'deploy');
          return deployment;
        }, (d) => `deployment ${d.id} in namespace ${d.namespace}`);
      }
      return { status: 'succeeded', result };
    },
  };
}

/** Follows a child to its end, copying its events; cancelling the parent cancels the child. */
async function follow(ctx: JobContext, deps: SiteRolloutDeps, childId: string, label: string): Promise<JobRecord> {
  let last = '0';
  await ctx.event('child.started', `${label}: job ${childId} started`, { childJobId: childId, kind: label });
  for (;;) {
    const child = await getJob(deps.pool, childId);
    for (;;) {
      const events = await listEvents(deps.pool, [childId], last, 200);
      for (const event of events) {
        await ctx.event(`child.${event.type}`, `[${label}] ${event.message}`, { childJobId: childId, kind: label, data: event.data });
        last = event.id;
      }
      if (events.length < 200) break;
    }
    if (!child) throw new AppError('child_job_missing', 500, `The ${label} job ${childId} disappeared`);
    if (isFinal(child.status)) {
      if (child.status !== 'succeeded') throw new ChildJobFailedError(label, child);
      return child;
    }
    try {
      await sleep(deps.pollMs ?? 300, undefined, { signal: ctx.signal });
    } catch (error: unknown) {
      if (!ctx.signal.aborted) throw error;
      await requestCancel(deps.pool, childId);
      throw ctx.signal.reason;
    }
  }
}
