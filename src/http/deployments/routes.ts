import { Type } from '@sinclair/typebox';
import type { DeploymentService } from '../../services/deployments/service.js';
import type { DeploymentLifecycle } from '../../services/deployments/lifecycle.js';
import type { Pool } from '../../adapters/db/pool.js';
import type { Listener } from '../../adapters/db/listener.js';
import { listJobsOfSubject } from '../../jobs/store.js';
import { ProblemSchema, problemResponses } from '../schemas.js';
import type { App } from '../types.js';
import { deploymentPage } from '../views/deployment-page.js';
import { streamEvents } from '../events/stream.js';
import { DeploymentList, DeploymentSchema, DeployRequest, PreflightSchema, ListQuery, LogsQuery, LogsResponse, PageListQuery, RollbackForm, RollbackRequest } from './schemas.js';
import { deploymentsPage } from '../views/deployments-page.js';
import { dropEmptyQueryValues } from '../page-query.js';
import type { ClusterService } from '../../services/clusters/service.js';
import type { Config } from '../../config.js';
import type { Principal } from '../auth/jwt.js';
import { UnauthorizedError } from '../../errors.js';

export function requirePrincipal(principal: Principal | undefined): Principal {
  if (!principal) throw new UnauthorizedError('missing_token', 'A Graphene token is required');
  return principal;
}

export interface DeploymentRouteDeps {
  deployments: DeploymentService;
  lifecycle: DeploymentLifecycle;
  clusters: ClusterService;
  config: Config;
  pool: Pool;
  listener: Listener;
}

/** /api/v1/deployments and the deployment status page. Thin: schema → service → reply. */
export async function deploymentRoutes(app: App, deps: DeploymentRouteDeps): Promise<void> {
  const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
  const who = (principal: Principal | undefined) => {
    const p = requirePrincipal(principal);
    return { p, admin: app.isAdmin(p) };
  };
  const location = (id: string) => `${deps.config.basePath}/api/v1/deployments/${id}`;

  app.post(
    '/api/v1/deployments',
    {
      preHandler: [app.authenticate, app.idempotent],
      schema: {
        tags: ['deployments'],
        summary: 'Deploy a solution revision to the cluster named by a kube config or a registered clusterId (Idempotency-Key supported); with dryRun=true, only check it (the preflight and the plan, 200) and write nothing',
        querystring: Type.Object({ dryRun: Type.Optional(Type.Boolean({ description: 'Check only: the preflight checks and the plan, nothing written to the cluster or stored' })) }),
        body: DeployRequest,
        response: { 200: PreflightSchema, 202: DeploymentSchema, ...problemResponses, 409: ProblemSchema, 422: ProblemSchema, 502: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (request, reply) => {
      const { p, admin } = who(request.principal);
      if (request.query.dryRun === true) return reply.status(200).send(await deps.deployments.check(p, request.body, admin));
      const deployment = await deps.deployments.create(p, request.body, admin);
      return reply.status(202).header('location', location(deployment.id)).send(deployment);
    },
  );

  app.get(
    '/api/v1/deployments',
    {
      preHandler: app.authenticate,
      schema: { tags: ['deployments'], summary: "The caller's deployments (an admin sees all), newest first", querystring: ListQuery, response: { 200: DeploymentList, ...problemResponses } },
    },
    async (request) => {
      const { p, admin } = who(request.principal);
      return deps.deployments.list(p, admin, request.query);
    },
  );

  app.get(
    '/api/v1/deployments/:id',
    { preHandler: app.authenticate, schema: { tags: ['deployments'], summary: 'Read a deployment', params: IdParams, response: { 200: DeploymentSchema, ...problemResponses } } },
    async (request) => {
      const { p, admin } = who(request.principal);
      return deps.deployments.get(p, request.params.id, admin);
    },
  );

  app.delete(
    '/api/v1/deployments/:id',
    {
      preHandler: app.authenticate,
      schema: { tags: ['deployments'], summary: 'Undeploy: remove what Slipway applied (and the namespace when Slipway created it)', params: IdParams, response: { 202: DeploymentSchema, ...problemResponses, 409: ProblemSchema } },
    },
    async (request, reply) => {
      const { p, admin } = who(request.principal);
      const deployment = await deps.lifecycle.undeploy(p, request.params.id, admin);
      return reply.status(202).header('location', location(deployment.id)).send(deployment);
    },
  );

  app.post(
    '/api/v1/deployments/:id/rollback',
    {
      preHandler: [app.authenticate, app.idempotent],
      schema: { tags: ['deployments'], summary: 'Deploy an earlier revision of this namespace again (by Graphene revisionId, by toDeploymentId, or the previous succeeded revision)', params: IdParams, body: Type.Optional(RollbackRequest), response: { 202: DeploymentSchema, ...problemResponses, 409: ProblemSchema, 422: ProblemSchema } },
    },
    async (request, reply) => {
      const { p, admin } = who(request.principal);
      const deployment = await deps.lifecycle.rollback(p, request.params.id, admin, request.body ?? {});
      return reply.status(202).header('location', location(deployment.id)).send(deployment);
    },
  );

  app.post(
    '/api/v1/deployments/:id/sync',
    {
      preHandler: [app.authenticate, app.idempotent],
      schema: { tags: ['deployments'], summary: 'Apply the recorded revision again (server-side apply of what it rendered): brings a deployment that drifted back to synced', params: IdParams, response: { 202: DeploymentSchema, ...problemResponses, 409: ProblemSchema } },
    },
    async (request, reply) => {
      const { p, admin } = who(request.principal);
      const deployment = await deps.lifecycle.sync(p, request.params.id, admin);
      return reply.status(202).header('location', location(deployment.id)).send(deployment);
    },
  );

  app.post(
    '/api/v1/deployments/:id/cancel',
    {
      preHandler: [app.authenticate, app.idempotent],
      schema: { tags: ['deployments'], summary: 'Stop a queued or running deployment at its next step boundary', params: IdParams, response: { 202: DeploymentSchema, ...problemResponses, 409: ProblemSchema } },
    },
    async (request, reply) => {
      const { p, admin } = who(request.principal);
      return reply.status(202).send(await deps.lifecycle.cancel(p, request.params.id, admin));
    },
  );

  app.get(
    '/api/v1/deployments/:id/history',
    {
      preHandler: app.authenticate,
      schema: { tags: ['deployments'], summary: "The namespace's revision history (every deployment to the same cluster and namespace)", params: IdParams, response: { 200: Type.Object({ items: Type.Array(Type.Omit(DeploymentSchema, ['steps'])) }), ...problemResponses } },
    },
    async (request) => {
      const { p, admin } = who(request.principal);
      return { items: await deps.deployments.history(p, request.params.id, admin) };
    },
  );

  app.get(
    '/api/v1/deployments/:id/logs',
    {
      preHandler: app.authenticate,
      schema: { tags: ['deployments'], summary: "A node's pod logs, read from the cluster", params: IdParams, querystring: LogsQuery, response: { 200: LogsResponse, ...problemResponses, 502: ProblemSchema } },
    },
    async (request) => {
      const { p, admin } = who(request.principal);
      return deps.lifecycle.logs(p, request.params.id, admin, request.query.node, request.query.tail ?? 200);
    },
  );

  app.get(
    '/api/v1/deployments/:id/events',
    {
      preHandler: app.authenticate,
      schema: { tags: ['deployments'], summary: 'Server-Sent Events of the deployment\'s jobs (resume with Last-Event-ID)', params: IdParams, produces: ['text/event-stream'] },
    },
    async (request, reply) => {
      const { p, admin } = who(request.principal);
      const deployment = await deps.deployments.authorised(p, request.params.id, admin);
      await streamEvents(request, reply, deps, async () => (await listJobsOfSubject(deps.pool, 'deployment', deployment.id)).map((job) => job.id));
    },
  );

  app.get('/deployments', { preHandler: app.authenticate, preValidation: dropEmptyQueryValues, schema: { hide: true, querystring: PageListQuery } }, async (request, reply) => {
    const { p, admin } = who(request.principal);
    const { jwtToken: _token, ...query } = request.query;
    const [page, solutions, clusters] = await Promise.all([
      deps.deployments.list(p, admin, query),
      deps.deployments.deployedSolutions(p, admin),
      deps.clusters.list(p, admin),
    ]);
    const clusterNames = new Map(clusters.flatMap((c) => (c.server ? [[c.server, c.name] as const] : [])));
    const filter = { ...(query.status ? { status: query.status } : {}), ...(query.solutionId ? { solutionId: query.solutionId } : {}), ...(query.limit ? { limit: query.limit } : {}) };
    const html = deploymentsPage({ ...page, filter, continued: query.cursor !== undefined, solutions, clusterNames, everyone: admin, now: Date.now() }, deps.config.basePath);
    return reply.type('text/html; charset=utf-8').send(html);
  });

  app.get('/deployments/:id', { preHandler: app.authenticate, schema: { hide: true, params: IdParams } }, async (request, reply) => {
    const { p, admin } = who(request.principal);
    const deployment = await deps.deployments.get(p, request.params.id, admin);
    const history = await deps.deployments.history(p, deployment.id, admin);
    return reply.type('text/html; charset=utf-8').send(deploymentPage(deployment, deps.config.basePath, history));
  });

  // The status page's rollback form: the same rollback as the API, answered with the new deployment's page.
  app.post('/deployments/:id/rollback', { preHandler: app.authenticate, schema: { hide: true, params: IdParams, body: RollbackForm } }, async (request, reply) => {
    const { p, admin } = who(request.principal);
    const deployment = await deps.lifecycle.rollback(p, request.params.id, admin, { revisionId: request.body.revisionId });
    return reply.redirect(`${deps.config.basePath}/deployments/${deployment.id}`, 303);
  });
}
