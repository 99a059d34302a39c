/**
 * TEST DOUBLE of Graphene's common data service (CDS) and Nexus, for tests only.
 *
 * A node:http server on 127.0.0.1 (port 0) that serves WireMock stub files — by default every
 * file in test/fixtures/graphene/ — as they are: a request matches a stub on method, URL and Basic
 * credentials. A request under a stubbed prefix (`/ccds`, `/nexus`) with other credentials gets
 * 401, like the real services; anything unmatched gets 404. It records every request and can
 * inject faults (`failNext`): a status, a connection that never answers, or a reset socket.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readdir, readFile } from 'node:fs/promises';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface WireMockStub {
  request: { url: string; method?: string; basicAuth?: { username: string; password: string } };
  response: { status: number; jsonBody?: unknown; body?: string; headers?: Record<string, string> };
}

export type InjectedFault = number | 'hang' | 'reset';

export interface FakeCdsOptions {
  /** Folder of stub files to load; default test/fixtures/graphene. */
  stubsDir?: string;
  /** Load no stub files at all (tests then add their own with addStub). */
  empty?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
}

export interface FakeCds {
  /** Base URL: CDS is at `${url}/ccds`, Nexus at `${url}/nexus`. */
  url: string;
  requests: RecordedRequest[];
  addStub(stub: WireMockStub): void;
  /** The next `count` requests whose path starts with `pathPrefix` fail this way instead. */
  failNext(pathPrefix: string, fault: InjectedFault, count?: number): void;
  close(): Promise<void>;
}

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/graphene/', import.meta.url));

/** Credentials in the Graphene fixtures. */
export const FIXTURE_CREDENTIALS = {
  cds: { user: 'ccds_client', password: 'test' },
  nexus: { user: 'acumos_rw', password: 'test' },
} as const;

interface PendingFault {
  pathPrefix: string;
  fault: InjectedFault;
  remaining: number;
}

export async function loadStubs(dir: string): Promise<WireMockStub[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.json')).sort();
  return Promise.all(files.map(async (file) => JSON.parse(await readFile(path.join(dir, file), 'utf8')) as WireMockStub));
}

export async function startFakeCds(options: FakeCdsOptions = {}): Promise<FakeCds> {
  const stubs: WireMockStub[] = options.empty ? [] : await loadStubs(options.stubsDir ?? FIXTURES_DIR);
  const faults: PendingFault[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push({ method: req.method ?? 'GET', path: url });
    // Drain the body so keep-alive connections stay usable; the stubs only serve GETs.
    req.resume();
    const fault = takeFault(faults, url);
    if (fault !== undefined) return injectFault(fault, req, res);
    answer(stubs, req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    addStub: (stub) => stubs.push(stub),
    failNext: (pathPrefix, fault, count = 1) => faults.push({ pathPrefix, fault, remaining: count }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Hung requests would keep close() waiting forever: cut every socket.
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function takeFault(faults: PendingFault[], url: string): InjectedFault | undefined {
  const pending = faults.find((fault) => fault.remaining > 0 && url.startsWith(fault.pathPrefix));
  if (!pending) return undefined;
  pending.remaining -= 1;
  return pending.fault;
}

function injectFault(fault: InjectedFault, req: IncomingMessage, res: ServerResponse): void {
  if (fault === 'hang') return; // never answer; close() destroys the socket
  if (fault === 'reset') {
    req.socket.destroy();
    return;
  }
  res.writeHead(fault, { 'content-type': 'text/plain' }).end(`injected fault ${fault}`);
}

function answer(stubs: readonly WireMockStub[], req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const method = req.method ?? 'GET';
  const credentials = parseBasicAuth(req.headers.authorization);
  const sameRealm = stubs.filter((stub) => firstSegment(stub.request.url) === firstSegment(url) && stub.request.basicAuth);
  const knownCredentials = sameRealm.some((stub) => sameCredentials(stub, credentials));
  if (sameRealm.length > 0 && !knownCredentials) {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"', 'content-type': 'text/plain' }).end('Unauthorized');
    return;
  }
  const stub = stubs.find(
    (candidate) =>
      candidate.request.url === url &&
      (candidate.request.method ?? 'GET').toUpperCase() === method &&
      (candidate.request.basicAuth === undefined || sameCredentials(candidate, credentials)),
  );
  if (!stub) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
    return;
  }
  const { status, jsonBody, body, headers = {} } = stub.response;
  const text = jsonBody !== undefined ? JSON.stringify(jsonBody) : (body ?? '');
  res.writeHead(status, headers).end(text);
}

function firstSegment(url: string): string {
  return url.split('/')[1] ?? '';
}

function sameCredentials(stub: WireMockStub, credentials: { username: string; password: string } | undefined): boolean {
  const expected = stub.request.basicAuth;
  if (expected === undefined) return true;
  return credentials !== undefined && credentials.username === expected.username && credentials.password === expected.password;
}

function parseBasicAuth(header: string | undefined): { username: string; password: string } | undefined {
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The service's environment for a CDS source pointing at this fake, with the fixtures' credentials. */
export function cdsEnvironment(cds: Pick<FakeCds, 'url'>): Record<string, string> {
  return {
    SOLUTION_SOURCE: 'cds',
    CDS_URL: `${cds.url}/ccds`,
    CDS_USER: FIXTURE_CREDENTIALS.cds.user,
    CDS_PASSWORD: FIXTURE_CREDENTIALS.cds.password,
    NEXUS_URL: `${cds.url}/nexus`,
    NEXUS_USER: FIXTURE_CREDENTIALS.nexus.user,
    NEXUS_PASSWORD: FIXTURE_CREDENTIALS.nexus.password,
  };
}
