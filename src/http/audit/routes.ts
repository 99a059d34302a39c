import { Type } from '@sinclair/typebox';
import type { Pool } from '../../adapters/db/pool.js';
import { listAudit } from '../../services/audit.js';
import { ForbiddenError } from '../../errors.js';
import { requirePrincipal } from '../deployments/routes.js';
import { ProblemSchema, problemResponses } from '../schemas.js';
import type { App } from '../types.js';

const Entry = Type.Object({
  id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  actor: Type.String(),
  action: Type.String(),
  subjectType: Type.String(),
  subjectId: Type.String(),
  clusterServer: Type.Union([Type.String(), Type.Null()]),
  namespace: Type.Union([Type.String(), Type.Null()]),
  result: Type.String(),
  detail: Type.Unknown(),
});

/** The audit log, for admins: who did what, where, with which result, when. */
export async function auditRoutes(app: App, deps: { pool: Pool }): Promise<void> {
  app.get(
    '/api/v1/audit',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['audit'],
        summary: 'Every recorded action, newest first (admins only)',
        querystring: Type.Object(
          {
            actor: Type.Optional(Type.String({ maxLength: 320 })),
            action: Type.Optional(Type.String({ maxLength: 64 })),
            subjectId: Type.Optional(Type.String({ maxLength: 100 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
            cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(Entry), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...problemResponses, 403: ProblemSchema },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      if (!app.isAdmin(principal)) throw new ForbiddenError('The audit log is for admins (a role listed in ADMIN_ROLES)');
      const limit = request.query.limit ?? 100;
      const items = await listAudit(deps.pool, {
        ...(request.query.actor ? { actor: request.query.actor } : {}),
        ...(request.query.action ? { action: request.query.action } : {}),
        ...(request.query.subjectId ? { subjectId: request.query.subjectId } : {}),
        ...(request.query.cursor ? { beforeId: request.query.cursor } : {}),
        limit: limit + 1,
      });
      const page = items.slice(0, limit);
      return { items: page, nextCursor: items.length > limit ? page.at(-1)?.id ?? null : null };
    },
  );
}
