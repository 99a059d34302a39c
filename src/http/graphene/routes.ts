import { Type } from '@sinclair/typebox';
import type { Config } from '../../config.js';
import type { DeploymentService } from '../../services/deployments/service.js';
import type { ClusterService } from '../../services/clusters/service.js';
import { requirePrincipal } from '../deployments/routes.js';
import { Id } from '../schemas.js';
import type { App } from '../types.js';
import { checkResultPage, deployForm } from '../views/deploy-form.js';
import { readDeployForm } from './form.js';

/**
 * Graphene's front door, compatible with the CREODIAS deployer: the entry page Graphene opens
 * (`GET /deploy/{solutionId}/{revisionId}?jwtToken=…`) and the form post (`POST /deploy`), which
 * answers 303 to the deployment's status page instead of blocking until the cluster is done.
 */
export async function grapheneRoutes(app: App, deps: { deployments: DeploymentService; clusters: ClusterService; config: Config }): Promise<void> {
  app.get(
    '/deploy/:solutionId/:revisionId',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['graphene'],
        summary: 'The deploy form Graphene opens',
        params: Type.Object({ solutionId: Id, revisionId: Id }),
        querystring: Type.Object({ jwtToken: Type.Optional(Type.String()) }),
        produces: ['text/html'],
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      const { solution, namespace } = await deps.deployments.proposal(request.params.solutionId, request.params.revisionId);
      const clusters = await deps.clusters.list(principal, false, { status: 'ready' });
      const page = deployForm(
        { solutionId: solution.solutionId, revisionId: solution.revisionId, solutionName: solution.name, namespace, user: principal.user, clusters },
        deps.config.basePath,
      );
      return reply.type('text/html; charset=utf-8').send(page);
    },
  );

  app.post(
    '/deploy',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['graphene'],
        summary: 'Submit the deploy form (urlencoded or multipart: solutionId, revisionId, namespaceName, clusterId or config or configFile)',
        consumes: ['application/x-www-form-urlencoded', 'multipart/form-data'],
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      const { check, ...form } = await readDeployForm(request);
      if (check) {
        const result = await deps.deployments.check(principal, form);
        const namespace = form.namespace ?? (await deps.deployments.proposal(form.solutionId, form.revisionId)).namespace;
        return reply.type('text/html; charset=utf-8').send(checkResultPage({ solutionId: form.solutionId, revisionId: form.revisionId, namespace, result }, deps.config.basePath));
      }
      const deployment = await deps.deployments.create(principal, form);
      return reply.redirect(`${deps.config.basePath}/deployments/${deployment.id}`, 303);
    },
  );
}
