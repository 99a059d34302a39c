import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Pool } from '../../adapters/db/pool.js';
import type { Listener } from '../../adapters/db/listener.js';
import { listEvents } from '../../jobs/store.js';

/**
 * Server-Sent Events of one or more jobs: every stored event after `Last-Event-ID` (or
 * `?lastEventId=`), then each new one as it is written. Event ids are the event log's ids, so a
 * client that reconnects resumes exactly where it stopped. The set of jobs is read again on each
 * flush: a deployment gains jobs (an undeploy after the deploy) while it is being watched.
 * Events are sent unnamed (type `message`, the event's own type inside its data), so a browser's
 * `onmessage` receives every kind, including kinds added later.
 */
export async function streamEvents(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: { pool: Pool; listener: Listener },
  jobIds: () => Promise<string[]>,
): Promise<void> {
  const header = request.headers['last-event-id'];
  const query = (request.query as { lastEventId?: string } | undefined)?.lastEventId;
  let last = /^[0-9]+$/.test(String(header ?? query ?? '')) ? String(header ?? query) : '0';

  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  raw.write('retry: 2000\n\n');

  let chain = Promise.resolve();
  let open = true;
  const flush = () => {
    chain = chain
      .then(async () => {
        if (!open) return;
        const ids = await jobIds();
        if (ids.length === 0) return;
        for (;;) {
          const events = await listEvents(deps.pool, ids, last, 200);
          for (const event of events) {
            raw.write(`id: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`);
            last = event.id;
          }
          if (events.length < 200) break;
        }
      })
      .catch((error: unknown) => request.log.warn({ err: error }, 'event stream flush failed'));
  };

  const unsubscribe = deps.listener.subscribe(() => flush());
  const poll = setInterval(flush, 5000);
  const keepAlive = setInterval(() => raw.write(': keep-alive\n\n'), 15_000);
  const stop = () => {
    open = false;
    unsubscribe();
    clearInterval(poll);
    clearInterval(keepAlive);
  };
  request.raw.on('close', stop);
  raw.on('close', stop);
  flush();
}
