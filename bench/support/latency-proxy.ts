/**
 * A loopback TCP proxy that adds latency: every chunk read from one side is written to the other
 * `delayMs` later, in each direction, in order (a round trip costs 2 × delayMs more). Bytes pass
 * untouched, so TLS goes end to end between the client and the server behind the proxy: a kube
 * config pointed at `https://127.0.0.1:<proxy port>` still verifies the apiserver's certificate
 * (it is valid for 127.0.0.1, whatever the port). It only listens on 127.0.0.1.
 *
 * `startLatencyProxyProcess` runs it in a process of its own (bench/support/latency-proxy-process.ts),
 * so that its timers do not share an event loop with the service being measured.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import readline from 'node:readline';

export interface LatencyProxy {
  /** The 127.0.0.1 port it listens on. */
  port: number;
  /** TCP connections accepted so far. */
  connections(): Promise<number>;
  close(): Promise<void>;
}

/** Writes what `from` sends to `to`, each chunk (and the end) `delayMs` after it arrived. */
function delayedPipe(from: net.Socket, to: net.Socket, delayMs: number): void {
  const queue: Array<{ due: number; chunk: Buffer | null }> = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    timer = undefined;
    const now = performance.now();
    // Within half a millisecond counts as due: timers fire on whole milliseconds.
    while (queue.length > 0 && (queue[0]?.due ?? 0) <= now + 0.5) {
      const { chunk } = queue.shift() as { chunk: Buffer | null };
      if (to.destroyed) return;
      if (chunk === null) to.end();
      else if (!to.write(chunk) && !from.isPaused()) {
        // Backpressure: read no more until the other side has taken what it was given.
        from.pause();
        to.once('drain', () => from.resume());
      }
    }
    const next = queue[0];
    if (next !== undefined) timer = setTimeout(flush, Math.max(0, next.due - performance.now()));
  };
  const push = (chunk: Buffer | null): void => {
    queue.push({ due: performance.now() + delayMs, chunk });
    timer ??= setTimeout(flush, delayMs);
  };
  from.on('data', (chunk: Buffer) => push(chunk));
  from.on('end', () => push(null));
  from.on('close', () => {
    if (timer !== undefined && queue.length === 0) clearTimeout(timer);
  });
}

export async function startLatencyProxy(target: { host: string; port: number }, delayMs: number): Promise<LatencyProxy & { accepted: () => number }> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (client) => {
    accepted += 1;
    const upstream = net.connect({ host: target.host, port: target.port, noDelay: true });
    sockets.add(client);
    sockets.add(upstream);
    const teardown = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', teardown);
    upstream.on('error', teardown);
    if (delayMs <= 0) {
      client.pipe(upstream);
      upstream.pipe(client);
    } else {
      delayedPipe(client, upstream, delayMs);
      delayedPipe(upstream, client, delayMs);
    }
    // Both sides closed: nothing left to carry.
    let closed = 0;
    const oneClosed = (): void => {
      closed += 1;
      if (closed === 2) teardown();
    };
    client.on('close', oneClosed);
    upstream.on('close', oneClosed);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the latency proxy has no TCP address');
  return {
    port: address.port,
    accepted: () => accepted,
    connections: async () => accepted,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The proxy in a child process; `close` ends it (and so does this process's exit: its stdin closes). */
export async function startLatencyProxyProcess(target: { host: string; port: number }, delayMs: number): Promise<LatencyProxy> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./latency-proxy-process.ts', import.meta.url).pathname, target.host, String(target.port), String(delayMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = readline.createInterface({ input: child.stdout! });
  const pending: Array<(line: string) => void> = [];
  lines.on('line', (line) => pending.shift()?.(line));
  const next = (): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the latency proxy did not answer within 30 s')), 30_000);
      pending.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  let port: number;
  try {
    ({ port } = JSON.parse(await next()) as { port: number });
  } catch (error: unknown) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    port,
    connections: async () => {
      const answer = next();
      child.stdin!.write('connections\n');
      return Number(await answer);
    },
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
