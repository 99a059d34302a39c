import { Type } from '@sinclair/typebox';
import type { Config } from '../../config.js';
import type { BootstrapService } from '../../services/clusters/bootstrap.js';
import type { SiteRolloutService } from '../../services/sites/rollout.js';
import { requirePrincipal } from '../deployments/routes.js';
import { ProblemSchema, problemResponses } from '../schemas.js';
import { JobSummary } from '../sites/schemas.js';
import type { App } from '../types.js';
import { clusterView } from './routes.js';
import { BootstrapAccepted, BootstrapInputSchema, SiteRolloutInput } from './schemas.js';

/** Cluster work on a site: bootstrap a cluster on its provisioned hosts, or roll the whole site out. */
export async function siteClusterRoutes(app: App, deps: { bootstrap: BootstrapService; rollouts: SiteRolloutService; config: Config }): Promise<void> {
  const SiteParams = Type.Object({ site: Type.String({ maxLength: 63 }) });
  const errors = { ...problemResponses, 409: ProblemSchema, 503: ProblemSchema };
  const base = deps.config.basePath;

  app.post('/api/v1/sites/:site/clusters', { preHandler: [app.authenticate, app.idempotent], schema: { tags: ['clusters'], summary: 'Bootstrap a Kubernetes cluster on provisioned hosts of the site (a job; the split is decided and explained when no host lists are given)', params: SiteParams, body: BootstrapInputSchema, response: { 202: BootstrapAccepted, ...errors } } }, async (request, reply) => {
    const p = requirePrincipal(request.principal);
    const { job, cluster, plan } = await deps.bootstrap.start(p, request.params.site, request.body, app.isAdmin(p));
    return reply.status(202).header('location', `${base}/api/v1/jobs/${job.id}`).send({
      job,
      cluster: clusterView(cluster),
      split: { controlPlane: plan.split.controlPlane, workers: plan.split.workers, explanation: plan.split.explanation },
    });
  });

  app.post('/api/v1/sites/:site/rollouts', { preHandler: [app.authenticate, app.idempotent], schema: { tags: ['sites'], summary: 'Provision → bootstrap → (optionally) deploy, as one parent job whose children show in its events', params: SiteParams, body: SiteRolloutInput, response: { 202: JobSummary, ...errors } } }, async (request, reply) => {
    const p = requirePrincipal(request.principal);
    const job = await deps.rollouts.start(p, request.params.site, request.body, app.isAdmin(p));
    return reply.status(202).header('location', `${base}/api/v1/jobs/${job.id}`).send(job);
  });
}
