import { Type } from '@sinclair/typebox';
import type { Pool } from '../../adapters/db/pool.js';
import type { App } from '../types.js';

/** Liveness (the process answers) and readiness (the database answers). No authentication. */
export async function healthRoutes(app: App, deps: { pool: Pool }): Promise<void> {
  const Health = Type.Object({ status: Type.String() });
  app.get('/healthz', { schema: { tags: ['operations'], response: { 200: Health } } }, async () => ({ status: 'ok' }));
  app.get(
    '/readyz',
    { schema: { tags: ['operations'], response: { 200: Health, 503: Type.Object({ status: Type.String(), reason: Type.String() }) } } },
    async (_request, reply) => {
      try {
        await deps.pool.query('SELECT 1');
        return { status: 'ready' };
      } catch {
        return reply.status(503).send({ status: 'unavailable', reason: 'database not reachable' });
      }
    },
  );
}
