import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Pool } from '../adapters/db/pool.js';
import { AppError, ConflictError, ValidationError } from '../errors.js';
import type { App } from './types.js';

/**
 * `Idempotency-Key` on POST: the first request with a key is processed and its answer stored;
 * a retry with the same key and the same request gets that answer again (header
 * `Idempotent-Replayed: true`) instead of acting twice; the same key with another request is a
 * 422; a retry while the first is still being processed is a 409. Keys are per user, kept 24 h.
 * A 5xx answer is not stored, so the client may retry it.
 */
declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKey: string | undefined;
  }
}

const KEY = /^[A-Za-z0-9._:-]{1,200}$/;

class IdempotencyKeyReusedError extends AppError {
  constructor() {
    super('idempotency_key_reused', 422, 'This Idempotency-Key was already used for a different request; use a new key for a new request');
  }
}

interface KeyRow {
  request_hash: string;
  status_code: number | null;
  location: string | null;
  response: unknown;
}

export function registerIdempotency(app: App, pool: Pool): void {
  app.decorateRequest('idempotencyKey', undefined);

  app.decorate('idempotent', async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers['idempotency-key'];
    if (header === undefined) return;
    const key = Array.isArray(header) ? header[0] ?? '' : header;
    if (!KEY.test(key)) throw new ValidationError('Idempotency-Key must be 1–200 characters of letters, digits and . _ : -', ['Idempotency-Key: invalid']);
    const owner = request.principal?.user ?? 'anonymous';
    const route = `${request.method} ${request.url.split('?')[0]}`;
    const hash = createHash('sha256').update(route).update('\n').update(JSON.stringify(request.body ?? null)).digest('hex');
    await pool.query(`DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'`);
    const inserted = await pool.query(
      `INSERT INTO idempotency_keys (owner, key, route, request_hash) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [owner, key, route, hash],
    );
    if ((inserted.rowCount ?? 0) === 1) {
      request.idempotencyKey = key;
      return;
    }
    const { rows } = await pool.query<KeyRow>('SELECT request_hash, status_code, location, response FROM idempotency_keys WHERE owner = $1 AND key = $2', [owner, key]);
    const stored = rows[0];
    if (!stored) throw new ConflictError('The first request with this Idempotency-Key has just finished; retry', 'idempotency_retry');
    if (stored.request_hash !== hash) throw new IdempotencyKeyReusedError();
    if (stored.status_code === null) throw new ConflictError('A request with this Idempotency-Key is still being processed; retry later', 'idempotency_in_progress');
    reply.header('idempotent-replayed', 'true');
    if (stored.location) reply.header('location', stored.location);
    return reply.status(stored.status_code).type(stored.status_code >= 400 ? 'application/problem+json' : 'application/json').send(stored.response);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const key = request.idempotencyKey;
    if (key === undefined) return payload;
    const owner = request.principal?.user ?? 'anonymous';
    if (reply.statusCode >= 500) {
      await pool.query('DELETE FROM idempotency_keys WHERE owner = $1 AND key = $2', [owner, key]);
      return payload;
    }
    let body: unknown = null;
    if (typeof payload === 'string') {
      try {
        body = JSON.parse(payload);
      } catch {
        body = payload;
      }
    }
    const location = reply.getHeader('location');
    await pool.query('UPDATE idempotency_keys SET status_code = $3, location = $4, response = $5 WHERE owner = $1 AND key = $2', [
      owner,
      key,
      reply.statusCode,
      typeof location === 'string' ? location : null,
      JSON.stringify(body),
    ]);
    return payload;
  });
}
