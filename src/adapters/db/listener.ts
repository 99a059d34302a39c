import pg from 'pg';

/**
 * One LISTEN connection per process, fanned out to in-process subscribers (the SSE streams).
 * NOTIFY reaches every replica, so a stream on one replica sees events written by a worker on
 * another. When the connection drops it reconnects; subscribers also poll, so nothing is missed.
 */
export interface Listener {
  subscribe(fn: (payload: string) => void): () => void;
  close(): Promise<void>;
}

export async function startListener(url: string, channel: string, onError: (error: unknown) => void): Promise<Listener> {
  const subscribers = new Set<(payload: string) => void>();
  let client: pg.Client | undefined;
  let closed = false;

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url });
    next.on('notification', (message) => {
      if (message.channel !== channel) return;
      for (const fn of subscribers) fn(message.payload ?? '');
    });
    next.on('error', (error: unknown) => {
      onError(error);
      next.end().catch(() => undefined);
      if (!closed) setTimeout(() => void connect().catch(onError), 1000);
    });
    await next.connect();
    await next.query(`LISTEN ${channel}`);
    client = next;
  };
  await connect();

  return {
    subscribe(fn) {
      subscribers.add(fn);
      return () => subscribers.delete(fn);
    },
    async close() {
      closed = true;
      subscribers.clear();
      await client?.end().catch(() => undefined);
    },
  };
}
