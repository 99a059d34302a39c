import { Type } from '@sinclair/typebox';
import type { Pool } from '../../adapters/db/pool.js';
import type { Listener } from '../../adapters/db/listener.js';
import { getJob, listSteps } from '../../jobs/store.js';
import { NotFoundError } from '../../errors.js';
import { requirePrincipal } from '../deployments/routes.js';
import { streamEvents } from '../events/stream.js';
import { problemResponses } from '../schemas.js';
import { StepSchema } from '../deployments/schemas.js';
import type { App } from '../types.js';

/** Every kind of job (deploy, undeploy, provisioning, bootstrap) read and watched the same way. */
export async function jobRoutes(app: App, deps: { pool: Pool; listener: Listener }): Promise<void> {
  const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
  const authorisedJob = async (principal: ReturnType<typeof requirePrincipal>, id: string) => {
    const job = await getJob(deps.pool, id);
    if (!job || !(app.isAdmin(principal) || job.owner === principal.user)) throw new NotFoundError(`Job ${id} not found`, 'job_not_found');
    return job;
  };

  app.get(
    '/api/v1/jobs/:id',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['jobs'],
        summary: 'A job: kind, subject, status, steps with timestamps, error',
        params: IdParams,
        response: {
          200: Type.Object({
            id: Type.String(),
            kind: Type.String(),
            subjectType: Type.String(),
            subjectId: Type.String(),
            owner: Type.String(),
            status: Type.String(),
            result: Type.Unknown(),
            error: Type.Unknown(),
            parentId: Type.Union([Type.String(), Type.Null()]),
            attempts: Type.Integer(),
            createdAt: Type.String(),
            startedAt: Type.Union([Type.String(), Type.Null()]),
            finishedAt: Type.Union([Type.String(), Type.Null()]),
            steps: Type.Array(StepSchema),
          }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const job = await authorisedJob(requirePrincipal(request.principal), request.params.id);
      return { ...job, steps: await listSteps(deps.pool, job.id) };
    },
  );

  app.get(
    '/api/v1/jobs/:id/events',
    { preHandler: app.authenticate, schema: { tags: ['jobs'], summary: "Server-Sent Events of a job (resume with Last-Event-ID)", params: IdParams, produces: ['text/event-stream'] } },
    async (request, reply) => {
      const job = await authorisedJob(requirePrincipal(request.principal), request.params.id);
      await streamEvents(request, reply, deps, async () => [job.id]);
    },
  );
}
