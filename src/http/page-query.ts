import type { FastifyRequest } from 'fastify';

/**
 * preValidation of the pages' GET forms: a field left empty ("any status") arrives as `status=`,
 * which means "no filter", not a value to validate. Removed before the schema sees the query.
 */
export async function dropEmptyQueryValues(request: FastifyRequest): Promise<void> {
  const query = request.query;
  if (typeof query !== 'object' || query === null) return;
  const record = query as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) if (value === '') delete record[key];
}
