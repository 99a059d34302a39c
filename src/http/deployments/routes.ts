import { Type } from '@sinclair/typebox';
import type { DeploymentService } from '../../services/deployments/service.js';
import { ProblemSchema, problemResponses } from '../schemas.js';
import type { App } from '../types.js';
import { deploymentPage } from '../views/deployment-page.js';
import { DeploymentSchema, DeployRequest } from './schemas.js';
import type { Config } from '../../config.js';
import type { Principal } from '../auth/jwt.js';
import { UnauthorizedError } from '../../errors.js';

export function requirePrincipal(principal: Principal | undefined): Principal {
  if (!principal) throw new UnauthorizedError('missing_token', 'A Graphene token is required');
  return principal;
}

/** /api/v1/deployments and the deployment status page. Thin: schema → service → reply. */
export async function deploymentRoutes(app: App, deps: { deployments: DeploymentService; config: Config }): Promise<void> {
  const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

  app.post(
    '/api/v1/deployments',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['deployments'],
        summary: 'Deploy a solution revision to the cluster named by a kube config',
        body: DeployRequest,
        response: { 202: DeploymentSchema, ...problemResponses, 422: ProblemSchema, 502: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (request, reply) => {
      const deployment = await deps.deployments.create(requirePrincipal(request.principal), request.body);
      reply.header('location', `${deps.config.basePath}/api/v1/deployments/${deployment.id}`);
      return reply.status(202).send(deployment);
    },
  );

  app.get(
    '/api/v1/deployments/:id',
    {
      preHandler: app.authenticate,
      schema: { tags: ['deployments'], summary: 'Read a deployment', params: IdParams, response: { 200: DeploymentSchema, ...problemResponses } },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      return deps.deployments.get(principal, request.params.id, app.isAdmin(principal));
    },
  );

  app.get(
    '/deployments/:id',
    { preHandler: app.authenticate, schema: { hide: true, params: IdParams } },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      const deployment = await deps.deployments.get(principal, request.params.id, app.isAdmin(principal));
      return reply.type('text/html; charset=utf-8').send(deploymentPage(deployment, deps.config.basePath));
    },
  );
}
