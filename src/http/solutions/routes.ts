import { Type } from '@sinclair/typebox';
import { stringify } from 'yaml';
import type { Config } from '../../config.js';
import type { SolutionSource } from '../../domain/solution.js';
import { defaultNamespace } from '../../domain/names.js';
import { ValidationError } from '../../errors.js';
import { renderForConfig } from '../../services/manifests.js';
import { ProblemSchema, problemResponses, Id } from '../schemas.js';
import type { App } from '../types.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Rendered manifests of a solution revision, without deploying anything. */
export async function solutionRoutes(app: App, deps: { solutionSource: SolutionSource; config: Config }): Promise<void> {
  app.get(
    '/api/v1/solutions/:solutionId/revisions/:revisionId/manifests',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['solutions'],
        summary: 'Render the Kubernetes objects of a solution revision (multi-document YAML, or JSON with Accept: application/json)',
        params: Type.Object({ solutionId: Id, revisionId: Id }),
        querystring: Type.Object({ namespace: Type.Optional(Type.String({ maxLength: 63 })) }),
        produces: ['application/yaml', 'application/json'],
        response: {
          200: Type.Union([
            Type.Object({
              namespace: Type.String(),
              objects: Type.Array(Type.Record(Type.String(), Type.Unknown())),
              dockerinfo: Type.Unknown(),
              blueprint: Type.Unknown(),
            }),
            Type.String({ description: 'multi-document YAML' }),
          ]),
          ...problemResponses,
          422: ProblemSchema,
          502: ProblemSchema,
          503: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const { solutionId, revisionId } = request.params;
      const requested = request.query.namespace;
      if (requested !== undefined && !DNS_LABEL.test(requested)) {
        throw new ValidationError(`namespace "${requested}" must be a DNS-1123 label (lower-case letters, digits and '-')`, ['namespace: must be a DNS-1123 label']);
      }
      const solution = await deps.solutionSource.getSolution(solutionId, revisionId);
      const namespace = requested ?? defaultNamespace(solution.name, solution.revisionId);
      const rendered = renderForConfig(solution, deps.config, namespace);
      const accept = request.headers.accept ?? '';
      if (accept.includes('application/json')) {
        return {
          namespace,
          objects: rendered.objects.map((object) => JSON.parse(JSON.stringify(object)) as Record<string, unknown>),
          dockerinfo: rendered.dockerinfo,
          blueprint: rendered.orchestratorBlueprint ?? null,
        };
      }
      const yaml = rendered.objects.map((object) => stringify(object, { sortMapEntries: false })).join('---\n');
      return reply.type('application/yaml; charset=utf-8').send(yaml);
    },
  );
}
