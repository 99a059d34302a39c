import http2 from 'node:http2';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterClient, KubernetesRequestError } from '../../src/adapters/kubernetes/index.js';
import type { SafeKubeconfig } from '../../src/domain/kubeconfig.js';
import { generateTlsMaterial, type TlsMaterial } from '../support/fake-kube/tls.js';

/**
 * The cluster client's HTTP layer against two minimal API-server stand-ins (TEST DOUBLES that
 * answer GET /api/v1/nodes and record what they received): one that offers HTTP/2 as every
 * kube-apiserver does, one that speaks HTTP/1.1 only. What is checked: the protocol chosen, that
 * a burst of requests shares one HTTP/2 connection, that token and basic credentials arrive as
 * the Authorization header on both paths, and that a server closing the connection is retried.
 */

interface Seen {
  httpVersion: string;
  authorization: string | undefined;
  path: string;
}

interface StandIn {
  url: string;
  seen: Seen[];
  /** TLS connections accepted so far. */
  connections: number;
  /** The most requests it was answering at once. */
  mostAtOnce: number;
  /** Drops every open connection (as a restarting API server would). */
  dropConnections(): void;
  close(): Promise<void>;
}

const NODE_LIST = {
  apiVersion: 'v1',
  kind: 'NodeList',
  metadata: { resourceVersion: '1' },
  items: [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.11' }] } }],
};

let tls: TlsMaterial;

async function startStandIn(protocols: 'h2' | 'http/1.1', maxConcurrentStreams?: number): Promise<StandIn> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let inFlight = 0;
  let mostAtOnce = 0;
  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    seen.push({ httpVersion: request.httpVersion, authorization: request.headers.authorization, path: request.url ?? '' });
    inFlight += 1;
    mostAtOnce = Math.max(mostAtOnce, inFlight);
    // A little latency, so that a burst really is concurrent.
    setTimeout(() => {
      inFlight -= 1;
      const body = JSON.stringify(NODE_LIST);
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      response.end(body);
    }, 20);
  };
  const options = { key: tls.serverKeyPem, cert: tls.serverCertPem };
  const server =
    protocols === 'h2'
      ? http2.createSecureServer({ ...options, allowHTTP1: true, ...(maxConcurrentStreams ? { settings: { maxConcurrentStreams } } : {}) }, handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void)
      : https.createServer(options, handler);
  server.on('secureConnection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    seen,
    get connections() {
      return connections;
    },
    get mostAtOnce() {
      return mostAtOnce;
    },
    dropConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function kubeconfigFor(server: string, auth: SafeKubeconfig['auth']): SafeKubeconfig {
  return { server, caData: Buffer.from(tls.caPem).toString('base64'), insecureSkipTlsVerify: false, contextName: 'stand-in', auth };
}

const TOKEN = { kind: 'token', token: 'stand-in-token' } as const;
const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20, attempts: 3 };

let h2: StandIn;
let h1: StandIn;

beforeAll(async () => {
  tls = await generateTlsMaterial();
  h2 = await startStandIn('h2');
  h1 = await startStandIn('http/1.1');
});

afterAll(async () => {
  await h2?.close();
  await h1?.close();
});

describe('the cluster client speaks HTTP/2 when the API server offers it', () => {
  it('sends a burst of requests over one connection', async () => {
    const client = createClusterClient(kubeconfigFor(h2.url, TOKEN), { retry: FAST_RETRY });
    const before = h2.connections;
    const seenBefore = h2.seen.length;
    const answers = await Promise.all(Array.from({ length: 40 }, () => client.listNodeAddresses()));
    expect(answers.every((nodes) => nodes[0]?.internalIP === '10.0.0.11')).toBe(true);
    expect(h2.connections - before).toBe(1);
    const burst = h2.seen.slice(seenBefore);
    expect(burst).toHaveLength(40);
    expect(new Set(burst.map((s) => s.httpVersion))).toEqual(new Set(['2.0']));
    client.close();
  });

  it('keeps to the number of streams the server allows at once, on one connection', async () => {
    const narrow = await startStandIn('h2', 4);
    try {
      const client = createClusterClient(kubeconfigFor(narrow.url, TOKEN), { retry: FAST_RETRY });
      const answers = await Promise.all(Array.from({ length: 20 }, () => client.listNodeAddresses()));
      expect(answers).toHaveLength(20);
      expect(narrow.seen).toHaveLength(20);
      expect(narrow.mostAtOnce).toBeLessThanOrEqual(4);
      expect(narrow.connections).toBe(1);
      client.close();
    } finally {
      await narrow.close();
    }
  });

  it('falls back to HTTP/1.1 for a server without HTTP/2', async () => {
    const client = createClusterClient(kubeconfigFor(h1.url, TOKEN), { retry: FAST_RETRY });
    const seenBefore = h1.seen.length;
    await Promise.all(Array.from({ length: 5 }, () => client.listNodeAddresses()));
    const burst = h1.seen.slice(seenBefore);
    expect(burst).toHaveLength(5);
    expect(new Set(burst.map((s) => s.httpVersion))).toEqual(new Set(['1.1']));
    client.close();
  });

  it.each([
    ['HTTP/2', () => h2],
    ['HTTP/1.1', () => h1],
  ])('sends a token or a user name and password as the Authorization header (%s)', async (_name, standIn) => {
    const server = standIn();
    const withToken = createClusterClient(kubeconfigFor(server.url, TOKEN), { retry: FAST_RETRY });
    await withToken.listNodeAddresses();
    expect(server.seen.at(-1)?.authorization).toBe('Bearer stand-in-token');
    withToken.close();
    const withPassword = createClusterClient(kubeconfigFor(server.url, { kind: 'basic', username: 'ada', password: 'lovelace' }), { retry: FAST_RETRY });
    await withPassword.listNodeAddresses();
    expect(server.seen.at(-1)?.authorization).toBe(`Basic ${Buffer.from('ada:lovelace').toString('base64')}`);
    withPassword.close();
  });

  it('reconnects after the server dropped the connection', async () => {
    const client = createClusterClient(kubeconfigFor(h2.url, TOKEN), { retry: FAST_RETRY });
    await client.listNodeAddresses();
    const before = h2.connections;
    h2.dropConnections();
    expect((await client.listNodeAddresses())[0]?.name).toBe('node-1');
    expect(h2.connections).toBeGreaterThan(before);
    client.close();
  });

  it('refuses a server whose certificate the kube config does not trust, on the HTTP/2 path too', async () => {
    const { caData: _ca, ...untrusting } = kubeconfigFor(h2.url, TOKEN);
    const client = createClusterClient(untrusting, { retry: FAST_RETRY });
    const seenBefore = h2.seen.length;
    const error = await client.listNodeAddresses().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(KubernetesRequestError);
    expect((error as KubernetesRequestError).transient).toBe(false);
    expect((error as KubernetesRequestError).message).toMatch(/certificate/i);
    expect(h2.seen.length).toBe(seenBefore);
    client.close();
  });
});
