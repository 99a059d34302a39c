import http2 from 'node:http2';
import { isIP } from 'node:net';
import tls from 'node:tls';
import {
  AbortError,
  FetchError,
  IsomorphicFetchHttpLibrary,
  ResponseContext,
  type PromiseHttpLibrary,
  type RequestContext,
} from '@kubernetes/client-node';

/**
 * How the cluster client speaks HTTP to an API server. Like client-go (kubectl), it uses HTTP/2
 * when the server offers it (ALPN `h2`, which every kube-apiserver does): all the requests of an
 * apply wave share one connection and one TLS handshake, where HTTP/1.1 needs a connection — and
 * a handshake — per concurrent request. A server that does not offer h2, and plain `http://`,
 * get the client library's own HTTP/1.1 (node-fetch over the keep-alive agent set on the request).
 *
 * Failures look the same on both paths: node-fetch's `FetchError` (with the system error's code)
 * for connection problems and `AbortError` when the request's signal fires, so retries and error
 * messages do not depend on the protocol.
 */
export interface Http2Options {
  server: URL;
  /** The kube config's CA and client certificate (one context for the connection). */
  secureContext: tls.SecureContext;
  rejectUnauthorized: boolean;
  /** The kube config's `tls-server-name`, if any. */
  tlsServerName?: string;
  /** Bound on the TLS handshake, in case the server accepts the connection and then says nothing. */
  connectTimeoutMs: number;
}

type Protocol = 'h2' | 'http/1.1';

/**
 * HTTP/2 flow-control windows of the connection, as client-go (kubectl) sets them for a stream
 * (4 MiB; Go's http2 transport) and bounded for the whole connection. With Node's defaults, 64 KiB
 * for each stream and for the connection, the API server may send only 64 KiB before it waits a
 * round trip for the client's WINDOW_UPDATE: measured on the real apiserver with 25 ms added each
 * way, the readiness poll of a 50-node pipeline (≈ 600 KiB of lists) took 0.9–1.0 s instead of
 * 75–85 ms, and a wave of 51 answers waited for windows too (the latency proxy of
 * bench/support/latency-proxy.ts). Go's transport allows 1 GiB for the connection; 32 MiB is plenty.
 */
const STREAM_WINDOW = 4 * 1024 * 1024;
const CONNECTION_WINDOW = 32 * 1024 * 1024;

export class ApiServerHttp implements PromiseHttpLibrary {
  private readonly http1 = new IsomorphicFetchHttpLibrary();
  private protocol: Protocol | undefined;
  private session: http2.ClientHttp2Session | undefined;
  private connecting: Promise<http2.ClientHttp2Session | undefined> | undefined;
  private active = 0;
  private closed = false;

  constructor(private readonly options: Http2Options) {
    if (options.server.protocol === 'http:') this.protocol = 'http/1.1';
  }

  async send(request: RequestContext): Promise<ResponseContext> {
    const session = await this.h2Session(request);
    if (session === undefined) return this.http1.send(request).toPromise();
    this.begin(session);
    try {
      return await this.exchange(session, request);
    } finally {
      this.end(session);
    }
  }

  /**
   * Opens the connection now (TLS handshake and protocol negotiation) so that the first request
   * does not wait for it. A failure is left for that request to meet and report.
   */
  preconnect(): void {
    if (this.protocol === 'http/1.1' || this.closed) return;
    if (this.session !== undefined && !this.session.closed && !this.session.destroyed) return;
    this.connecting ??= this.connect(this.options.server.href).finally(() => {
      this.connecting = undefined;
    });
    this.connecting.catch(() => undefined);
  }

  close(): void {
    this.closed = true;
    this.session?.destroy();
    this.session = undefined;
  }

  private async h2Session(request: RequestContext): Promise<http2.ClientHttp2Session | undefined> {
    if (this.protocol === 'http/1.1') return undefined;
    const current = this.session;
    if (current !== undefined && !current.closed && !current.destroyed) return current;
    if (this.closed) throw fetchError(request.getUrl(), Object.assign(new Error('the cluster client was closed'), { code: 'ERR_CLIENT_CLOSED' }));
    this.preconnect();
    const connecting = this.connecting;
    if (connecting === undefined) return undefined;
    const signal = request.getSignal();
    // The request's own deadline also bounds its wait for the connection.
    return signal === undefined ? connecting : untilAborted(connecting, signal, request.getUrl());
  }

  private connect(url: string): Promise<http2.ClientHttp2Session | undefined> {
    const { server, secureContext, rejectUnauthorized, tlsServerName, connectTimeoutMs } = this.options;
    const host = server.hostname.replace(/^\[|\]$/g, '');
    const servername = tlsServerName ?? (isIP(host) === 0 ? host : undefined);
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host,
        port: Number(server.port || 443),
        secureContext,
        rejectUnauthorized,
        ALPNProtocols: ['h2', 'http/1.1'],
        ...(servername !== undefined ? { servername } : {}),
      });
      socket.setTimeout(connectTimeoutMs, () => socket.destroy(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' })));
      socket.once('error', (error: NodeJS.ErrnoException) => reject(fetchError(url, error)));
      socket.once('secureConnect', () => {
        socket.setTimeout(0);
        if (socket.alpnProtocol !== 'h2' || this.closed) {
          // An HTTP/1.1-only server: the client library's own path from now on.
          socket.destroy();
          if (!this.closed) this.protocol = 'http/1.1';
          resolve(undefined);
          return;
        }
        this.protocol = 'h2';
        const session = http2.connect(server.origin, { createConnection: () => socket, settings: { initialWindowSize: STREAM_WINDOW } });
        session.once('connect', () => {
          if (!session.destroyed) session.setLocalWindowSize(CONNECTION_WINDOW);
        });
        // Errors reach the streams that were using the session; a later request reconnects.
        session.on('error', () => undefined);
        const forget = (): void => {
          if (this.session === session) this.session = undefined;
        };
        session.once('close', forget);
        session.once('goaway', forget);
        session.unref();
        this.session = session;
        resolve(session);
      });
    });
  }

  /**
   * Counts the requests in flight: the connection keeps the process alive only while one is.
   * (More streams than the server allows at once wait in nghttp2's queue, not here.)
   */
  private begin(session: http2.ClientHttp2Session): void {
    this.active += 1;
    if (this.active === 1) session.ref();
  }

  private end(session: http2.ClientHttp2Session): void {
    this.active -= 1;
    if (this.active === 0 && !session.destroyed) session.unref();
  }

  private exchange(session: http2.ClientHttp2Session, request: RequestContext): Promise<ResponseContext> {
    const url = new URL(request.getUrl());
    const body = request.getBody();
    if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
      return Promise.reject(new Error('the Kubernetes API client sent a form body, which this transport does not carry'));
    }
    const headers: http2.OutgoingHttpHeaders = {
      [http2.constants.HTTP2_HEADER_METHOD]: request.getHttpMethod(),
      [http2.constants.HTTP2_HEADER_PATH]: `${url.pathname}${url.search}`,
    };
    for (const [name, value] of Object.entries(request.getHeaders())) headers[name.toLowerCase()] = value;
    if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
    const signal = request.getSignal();
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortError(`request to ${request.getUrl()} was aborted`));
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request(headers, { endStream: body === undefined, ...(signal !== undefined ? { signal } : {}) });
      } catch (error: unknown) {
        // The session closed between the check and the request: the retry opens a new one.
        if (this.session === session) this.session = undefined;
        reject(fetchError(request.getUrl(), asConnectionError(error)));
        return;
      }
      let status = 0;
      let responseHeaders: Record<string, string> = {};
      const chunks: Buffer[] = [];
      stream.on('response', (received) => {
        status = Number(received[http2.constants.HTTP2_HEADER_STATUS]);
        responseHeaders = plainHeaders(received);
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      const connectionLost = (): FetchError =>
        fetchError(request.getUrl(), Object.assign(new Error('the connection closed before the API server answered'), { code: 'ECONNRESET' }));
      stream.on('end', () => {
        // No status line: the connection went away under the stream (a server restarting, a proxy timing out).
        if (status === 0) return reject(connectionLost());
        const data = Buffer.concat(chunks);
        resolve(new ResponseContext(status, responseHeaders, { text: async () => data.toString('utf8'), binary: async () => data }));
      });
      stream.on('error', (error: NodeJS.ErrnoException) => {
        reject(error.name === 'AbortError' ? new AbortError('The operation was aborted.') : fetchError(request.getUrl(), asConnectionError(error)));
      });
      stream.on('close', () => {
        // A stream reset by the server, or a session that went away, before the answer ended.
        if (stream.readableEnded && status !== 0) return;
        if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
          reject(fetchError(request.getUrl(), Object.assign(new Error(`stream reset by the server (HTTP/2 code ${stream.rstCode})`), { code: 'ECONNRESET' })));
        } else {
          reject(connectionLost());
        }
      });
      if (body !== undefined) stream.end(body);
    });
  }
}

function plainHeaders(received: http2.IncomingHttpHeaders): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(received)) {
    if (name.startsWith(':') || value === undefined) continue;
    result[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return result;
}

/**
 * HTTP/2 stream and session failures (reset, GOAWAY, a session torn down under the stream) are a
 * lost connection, like ECONNRESET on HTTP/1.1: worth a retry on a new connection.
 */
function asConnectionError(error: unknown): NodeJS.ErrnoException {
  const failure = (error instanceof Error ? error : new Error(String(error))) as NodeJS.ErrnoException;
  if (typeof failure.code === 'string' && /^ERR_HTTP2_(STREAM|SESSION|GOAWAY|INVALID_SESSION)/.test(failure.code)) {
    return Object.assign(new Error(failure.message), { code: 'ECONNRESET' });
  }
  return failure;
}

/** The same error node-fetch raises for a connection problem, so both protocols fail alike. */
function fetchError(url: string, error: NodeJS.ErrnoException): FetchError {
  return new FetchError(`request to ${url} failed, reason: ${error.message}`, 'system', error);
}

/** `work`, or an AbortError as soon as `signal` fires. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal, url: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const fail = (): void => reject(new AbortError(`request to ${url} was aborted`));
    if (signal.aborted) return fail();
    signal.addEventListener('abort', fail, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', fail));
  });
}
