import type { Config } from '../../config.js';
import { inTransaction, type Pool } from '../../adapters/db/pool.js';
import { checkKubernetesVersion, checkName, checkSubnets } from '../../domain/bootstrap/request.js';
import { orderAddons } from '../../domain/bootstrap/addons.js';
import type { Principal } from '../../http/auth/jwt.js';
import type { JobQueue } from '../../jobs/queue.js';
import type { JobRecord } from '../../jobs/model.js';
import { insertJob } from '../../jobs/store.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { recordAudit } from '../audit.js';
import { BootstrapNotConfiguredError, type BootstrapInput } from '../clusters/bootstrap.js';
import type { HostImage } from '../../domain/baremetal/host.js';
import { IronicNotConfiguredError } from './service.js';
import { getSite, listHosts } from './store.js';

export interface SiteRolloutInput {
  hosts?: string[];
  image?: HostImage;
  cluster: BootstrapInput;
  deploy?: { solutionId: string; revisionId: string; namespace?: string };
}

/** What the site-rollout job reads. */
export interface SiteRolloutJobInput extends SiteRolloutInput {
  site: string;
}

export const SITE_ROLLOUT_STEPS = ['provision hosts', 'bootstrap cluster', 'deploy solution'] as const;

/**
 * A site rollout: one parent job that runs provisioning, then the bootstrap, then (optionally) a
 * deploy to the new cluster, each as a child job. What can be checked before any host is touched
 * is checked here; the rest (hosts' addresses, the split) when the bootstrap child is created.
 */
export class SiteRolloutService {
  constructor(private readonly deps: { config: Config; pool: Pool; queue: JobQueue }) {}

  async start(principal: Principal, site: string, input: SiteRolloutInput, isAdmin: boolean): Promise<JobRecord> {
    const siteRecord = await getSite(this.deps.pool, site);
    if (!siteRecord || !(isAdmin || siteRecord.owner === principal.user)) throw new NotFoundError(`Site ${site} not found`, 'site_not_found');
    if (this.deps.config.bootstrapKubeconfig === undefined) throw new BootstrapNotConfiguredError();
    const hosts = await listHosts(this.deps.pool, site);
    const unknown = (input.hosts ?? []).filter((name) => !hosts.some((h) => h.name === name));
    const toProvision = (input.hosts ?? hosts.map((h) => h.name)).filter((name) => hosts.find((h) => h.name === name)?.state !== 'provisioned');
    if (toProvision.length > 0 && !this.deps.config.ironicUrl) throw new IronicNotConfiguredError();
    const { cluster } = input;
    const problems = [
      ...unknown.map((name) => `hosts: ${name} is not a host of site ${site}`),
      ...checkName(cluster.name).map((p) => `cluster.${p}`),
      ...checkKubernetesVersion(cluster.kubernetesVersion).map((p) => `cluster.${p}`),
      ...checkSubnets(cluster, []).map((p) => `cluster.${p}`),
      ...orderAddons(cluster.addons ?? []).problems.map((p) => `cluster.${p}`),
    ];
    if (problems.length > 0) throw new ValidationError(`The site rollout is invalid: ${problems.join('; ')}`, problems);
    const jobInput: SiteRolloutJobInput = { ...input, site };
    const job = await inTransaction(this.deps.pool, async (tx) => {
      const created = await insertJob(tx, {
        kind: 'site-rollout', subjectType: 'site', subjectId: site, owner: principal.user,
        input: jobInput as unknown as Record<string, unknown>,
        steps: input.deploy ? SITE_ROLLOUT_STEPS : SITE_ROLLOUT_STEPS.filter((s) => s !== 'deploy solution'),
      });
      const hours = (this.deps.config.provisionTimeoutMs + this.deps.config.bootstrapTimeoutMs + this.deps.config.deployTimeoutMs) / 1000;
      await this.deps.queue.enqueue(tx, 'site-rollout', created.id, { expireInSeconds: Math.ceil(hours) + 1800 });
      await recordAudit(tx, { actor: principal.user, action: 'site-rollout', subjectType: 'site', subjectId: site, result: 'accepted', detail: { jobId: created.id, cluster: cluster.name, deploy: input.deploy ?? null } });
      return created;
    });
    this.deps.queue.wake('site-rollout');
    return job;
  }
}
