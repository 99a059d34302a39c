import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { basicAuthorization, describeUrl, requestWithRetry, unexpectedStatusError } from '../../src/adapters/http-client.js';
import { UpstreamError } from '../../src/errors.js';

/** A scripted server: each request takes the next handler; the last one repeats. */
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let script: Handler[];
let seen: IncomingMessage[];
const sockets = new Set<Socket>();

beforeEach(async () => {
  script = [];
  seen = [];
  server = createServer((req, res) => {
    seen.push(req);
    const handler = script.length > 1 ? script.shift() : script[0];
    if (handler) handler(req, res);
    else res.end('ok');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const status = (code: number, headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(code, headers).end(`status ${code}`);
};
const hang: Handler = () => undefined;

const fast = { timeoutMs: 5_000, retryBaseDelayMs: 1 };

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => expect.fail('expected a failure'),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe('requestWithRetry', () => {
  it('returns status, lower-cased headers and text', async () => {
    script = [(_req, res) => res.writeHead(201, { 'X-Thing': 'yes' }).end('héllo')];
    const response = await requestWithRetry('Thing', `${baseUrl}/a`, fast);
    expect(response).toMatchObject({ status: 201, text: 'héllo' });
    expect(response.headers['x-thing']).toBe('yes');
  });

  it.each([429, 502, 503, 504])('retries HTTP %i and returns the eventual success', async (code) => {
    script = [status(code), status(code), status(200)];
    const response = await requestWithRetry('Thing', `${baseUrl}/a`, { ...fast, retries: 2 });
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(3);
  });

  it.each([400, 401, 403, 404, 409, 500])('returns HTTP %i to the caller without retrying', async (code) => {
    script = [status(code)];
    const response = await requestWithRetry('Thing', `${baseUrl}/a`, { ...fast, retries: 3 });
    expect(response.status).toBe(code);
    expect(seen).toHaveLength(1);
  });

  it('retries a POST only when it surely was not processed', async () => {
    script = [status(503)];
    await failure(requestWithRetry('Thing', `${baseUrl}/a`, { ...fast, method: 'POST', body: 'x' }));
    expect(seen).toHaveLength(1);
    script = [status(429), status(201)];
    const response = await requestWithRetry('Thing', `${baseUrl}/b`, { ...fast, method: 'POST', body: 'x' });
    expect(response.status).toBe(201);
    expect(seen).toHaveLength(3);
  });

  it('retries a POST marked idempotent like a GET', async () => {
    script = [status(503), status(200)];
    const response = await requestWithRetry('Thing', `${baseUrl}/a`, { ...fast, method: 'POST', idempotent: true });
    expect(response.status).toBe(200);
  });

  it('stops after the configured retries and names the system and the status', async () => {
    script = [status(503)];
    const error = await failure(requestWithRetry('Ironic', `${baseUrl}/v1/nodes?secret=q`, { ...fast, retries: 1 }));
    expect(error.message).toBe(`Ironic: answered HTTP 503 after 2 attempts (GET ${baseUrl}/v1/nodes)`);
    expect(error.status).toBe(502);
    expect(seen).toHaveLength(2);
  });

  it('waits for a Retry-After the server asks for, capped by the largest delay', async () => {
    script = [status(429, { 'retry-after': '3600' }), status(200)];
    const response = await requestWithRetry('Thing', `${baseUrl}/a`, { ...fast, retryMaxDelayMs: 20 });
    expect(response.status).toBe(200);
  });

  it('fails with a 504 when the deadline passes, without retrying into it', async () => {
    script = [hang];
    const error = await failure(requestWithRetry('Thing', `${baseUrl}/a`, { timeoutMs: 150, retries: 5, retryBaseDelayMs: 1 }));
    expect(error).toMatchObject({ status: 504, code: 'upstream_timeout', system: 'Thing' });
    expect(seen).toHaveLength(1);
  });

  it('retries a reset connection', async () => {
    script = [(req) => req.socket.destroy(), status(200)];
    const response = await requestWithRetry('Thing', `${baseUrl}/a`, fast);
    expect(response.status).toBe(200);
  });

  it('rethrows the caller’s abort reason and stops', async () => {
    script = [hang];
    const controller = new AbortController();
    const reason = new Error('job cancelled');
    setTimeout(() => controller.abort(reason), 20);
    const error = await requestWithRetry('Thing', `${baseUrl}/a`, { ...fast, signal: controller.signal }).catch((caught: unknown) => caught);
    expect(error).toBe(reason);
  });

  it('moves user info from the URL into a Basic header and keeps it out of messages', async () => {
    script = [status(503)];
    const url = `${baseUrl.replace('http://', 'http://svc:Pa55word@')}/x`;
    const error = await failure(requestWithRetry('Thing', url, { ...fast, retries: 0 }));
    expect(seen[0]?.headers.authorization).toBe(basicAuthorization('svc', 'Pa55word'));
    expect(error.message).not.toContain('Pa55word');
    expect(error.message).not.toContain('svc');
  });

  it('refuses a body larger than the limit', async () => {
    script = [(_req, res) => res.end('x'.repeat(10_000))];
    const error = await failure(requestWithRetry('Thing', `${baseUrl}/big`, { ...fast, maxResponseBytes: 1_000 }));
    expect(error.message).toContain('larger than 1000 bytes');
    expect(seen).toHaveLength(1);
  });

  it('sends method, headers and body', async () => {
    let received = '';
    script = [
      (req, res) => {
        req.setEncoding('utf8');
        req.on('data', (chunk: string) => (received += chunk));
        req.on('end', () => res.end('done'));
      },
    ];
    await requestWithRetry('Thing', `${baseUrl}/p`, { ...fast, method: 'post', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(seen[0]?.method).toBe('POST');
    expect(seen[0]?.headers['content-type']).toBe('application/json');
    expect(received).toBe('{"a":1}');
  });
});

describe('helpers', () => {
  it('describeUrl drops user info, query and fragment', () => {
    expect(describeUrl('https://u:p@host:8443/path/x?token=abc#frag')).toBe('https://host:8443/path/x');
  });

  it('unexpectedStatusError reads 401 and 403 as refused credentials', () => {
    expect(unexpectedStatusError('CDS', 'get', 'http://h/ccds/x', 401)).toMatchObject({ code: 'upstream_unauthorized', status: 502 });
    expect(unexpectedStatusError('CDS', 'get', 'http://h/ccds/x', 418).message).toBe('CDS: answered HTTP 418 for GET http://h/ccds/x');
  });

  it('basicAuthorization is absent without a user', () => {
    expect(basicAuthorization(undefined, 'x')).toBeUndefined();
    expect(basicAuthorization('a', undefined)).toBe(`Basic ${Buffer.from('a:').toString('base64')}`);
  });
});
