import { Type } from '@sinclair/typebox';
import type { Pool } from '../../adapters/db/pool.js';
import type { Listener } from '../../adapters/db/listener.js';
import { cancelQueuedJob, getJob, listSteps, requestCancel } from '../../jobs/store.js';
import { recordAudit } from '../../services/audit.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import { requirePrincipal } from '../deployments/routes.js';
import { streamEvents } from '../events/stream.js';
import { ProblemSchema, problemResponses } from '../schemas.js';
import { JobSchema } from './schemas.js';
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
          200: JobSchema,
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const job = await authorisedJob(requirePrincipal(request.principal), request.params.id);
      return { ...job, steps: await listSteps(deps.pool, job.id) };
    },
  );

  app.post(
    '/api/v1/jobs/:id/cancel',
    {
      preHandler: [app.authenticate, app.idempotent],
      schema: { tags: ['jobs'], summary: 'Cancel a queued job, or stop a running one at its next step boundary (Ironic aborts what it can)', params: IdParams, response: { 202: Type.Object({ id: Type.String(), status: Type.String(), cancelRequested: Type.Boolean() }), ...problemResponses, 409: ProblemSchema } },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      const job = await authorisedJob(principal, request.params.id);
      if (!['queued', 'running'].includes(job.status)) throw new ConflictError(`Job ${job.id} is already ${job.status}`, 'not_cancellable');
      if (!(await cancelQueuedJob(deps.pool, job.id))) await requestCancel(deps.pool, job.id);
      await recordAudit(deps.pool, { actor: principal.user, action: 'cancel', subjectType: job.subjectType, subjectId: job.subjectId, result: 'requested', detail: { jobId: job.id, kind: job.kind } });
      const after = await getJob(deps.pool, job.id);
      return reply.status(202).send({ id: job.id, status: after?.status ?? job.status, cancelRequested: true });
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
