/**
 * TEST DOUBLE of OpenStack Ironic's REST API (the subset Slipway uses), served over HTTP on
 * 127.0.0.1:<random port> so the real IronicClient and IronicProvisioner are exercised. It speaks
 * Ironic 21's dialect: microversion headers (406 above 1.82, and — stricter than Ironic — a
 * request without the header is refused, so a client that forgets it fails here), errors as a
 * JSON string inside `error_message`, `fields` filtering, 202 for state changes. Node work
 * advances one stage per read of the node (see fake-ironic-nodes.ts). It records every request
 * and injects faults per host name: BMC unreachable, wrong credentials, deploy failure, node
 * locked, deploys and cleanings that never finish, power failures, Ironic itself failing.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { IronicRefusal, NodeStore, isRecord, type Fault, type FakeNode } from './fake-ironic-nodes.js';

export type { Fault, FakeNode } from './fake-ironic-nodes.js';

export const FAKE_IRONIC_MAX_VERSION = '1.82';

export interface RecordedRequest {
  method: string;
  path: string;
  version?: string;
  body?: unknown;
  /** The raw body, to check no secret travelled where it should not. */
  rawBody: string;
}

export interface FakeIronic {
  url: string;
  requests: RecordedRequest[];
  store: NodeStore;
  inject(hostName: string, fault: Fault): void;
  clearFaults(hostName: string): void;
  /** The next `count` requests answer `status` (503: conductor down) before reaching a node. */
  failNextRequests(count: number, status?: number): void;
  node(ident: string): FakeNode | undefined;
  close(): Promise<void>;
}

export async function startFakeIronic(): Promise<FakeIronic> {
  const store = new NodeStore();
  const requests: RecordedRequest[] = [];
  let failures = { left: 0, status: 503 };

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const url = new URL(request.url ?? '/', 'http://fake-ironic');
      const version = headerValue(request.headers['x-openstack-ironic-api-version']);
      const recorded: RecordedRequest = { method: request.method ?? 'GET', path: url.pathname + url.search, rawBody, ...(version ? { version } : {}) };
      requests.push(recorded);
      let reply: Reply;
      try {
        recorded.body = rawBody === '' ? undefined : (JSON.parse(rawBody) as unknown);
        if (failures.left > 0) {
          failures.left -= 1;
          reply = { status: failures.status, body: errorBody(`The conductor is not available (injected ${failures.status}).`) };
        } else {
          reply = route(store, recorded.method, url, version, recorded.body);
        }
      } catch (error: unknown) {
        reply = error instanceof IronicRefusal ? { status: error.status, body: errorBody(error.faultstring) } : { status: 500, body: errorBody(String(error)) };
      }
      send(response, reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    store,
    inject: (hostName, fault) => store.inject(hostName, fault),
    clearFaults: (hostName) => store.clearFaults(hostName),
    failNextRequests: (count, status = 503) => {
      failures = { left: count, status };
    },
    node: (ident) => store.find(ident),
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

interface Reply {
  status: number;
  body?: unknown;
}

function route(store: NodeStore, method: string, url: URL, version: string | undefined, body: unknown): Reply {
  const path = url.pathname.replace(/\/+$/, '');
  if (method === 'GET' && (path === '/v1' || path === '')) return { status: 200, body: versionDocument() };
  checkVersion(version);
  const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  const fields = url.searchParams.get('fields')?.split(',');
  if (segments[1] === 'nodes') return routeNodes(store, method, segments.slice(2), body, fields);
  if (segments[1] === 'ports') return routePorts(store, method, url, body);
  throw new IronicRefusal(404, `The resource could not be found: ${path}`);
}

function routeNodes(store: NodeStore, method: string, rest: string[], body: unknown, fields: string[] | undefined): Reply {
  const [ident, sub, action] = rest;
  if (ident === undefined) {
    if (method !== 'POST') throw new IronicRefusal(405, 'Method not allowed');
    return { status: 201, body: nodeView(store.create(record(body)), undefined) };
  }
  const node = store.get(ident);
  if (method === 'GET' && sub === undefined) {
    store.tick(node);
    return { status: 200, body: nodeView(node, fields) };
  }
  if (method === 'DELETE' && sub === undefined) {
    store.checkLock(node);
    if (!['enroll', 'manageable', 'available'].includes(node.provision_state) && !node.maintenance) {
      throw new IronicRefusal(409, `Can not delete node "${node.uuid}" while it is in provision state "${node.provision_state}". Valid provision states to perform deletion are: "('manageable', 'enroll', 'adopt failed', 'available')", or set the node into maintenance mode`);
    }
    store.nodes.delete(node.uuid);
    for (const [uuid, port] of store.ports) if (port.node_uuid === node.uuid) store.ports.delete(uuid);
    return { status: 204 };
  }
  store.checkLock(node);
  if (method === 'PATCH' && sub === undefined) {
    applyPatch(node, body);
    return { status: 200, body: nodeView(node, undefined) };
  }
  if (method === 'PUT' && sub === 'states' && action === 'provision') {
    store.setProvisionState(node, String(record(body).target), record(body));
    return { status: 202 };
  }
  if (method === 'PUT' && sub === 'states' && action === 'power') {
    store.setPowerState(node, String(record(body).target));
    return { status: 202 };
  }
  if (method === 'PUT' && sub === 'maintenance') {
    node.maintenance = true;
    node.maintenance_reason = typeof record(body).reason === 'string' ? String(record(body).reason) : null;
    return { status: 202 };
  }
  throw new IronicRefusal(404, `The resource could not be found: ${rest.join('/')}`);
}

function routePorts(store: NodeStore, method: string, url: URL, body: unknown): Reply {
  if (method === 'GET') {
    const address = url.searchParams.get('address')?.toLowerCase();
    const nodeUuid = url.searchParams.get('node_uuid') ?? undefined;
    const ports = [...store.ports.values()].filter((port) => (address === undefined || port.address === address) && (nodeUuid === undefined || port.node_uuid === nodeUuid));
    return { status: 200, body: { ports } };
  }
  if (method !== 'POST') throw new IronicRefusal(405, 'Method not allowed');
  const fields = record(body);
  const nodeUuid = String(fields.node_uuid);
  if (!/^[0-9a-f-]{36}$/.test(nodeUuid)) throw new IronicRefusal(400, `Expected UUID for node_uuid: ${nodeUuid}`);
  store.get(nodeUuid);
  const address = String(fields.address).toLowerCase();
  if ([...store.ports.values()].some((port) => port.address === address)) throw new IronicRefusal(409, `A port with MAC address ${address} already exists.`);
  const port = { uuid: crypto.randomUUID(), node_uuid: nodeUuid, address };
  store.ports.set(port.uuid, port);
  return { status: 201, body: port };
}

/** JSON patch as Ironic applies it to a node: only some paths may change. */
function applyPatch(node: FakeNode, body: unknown): void {
  if (!Array.isArray(body)) throw new IronicRefusal(400, 'Invalid patch');
  for (const operation of body) {
    if (!isRecord(operation) || typeof operation.path !== 'string') throw new IronicRefusal(400, 'Invalid patch');
    const [, field, key] = operation.path.split('/');
    if (field === 'name' && operation.op !== 'remove') node.name = String(operation.value);
    else if (field === 'driver_info' || field === 'instance_info' || field === 'extra' || field === 'properties') {
      const target = node[field];
      if (key === undefined) node[field] = isRecord(operation.value) ? { ...operation.value } : {};
      else if (operation.op === 'remove') delete target[key];
      else target[key] = operation.value;
    } else throw new IronicRefusal(400, `Cannot patch ${operation.path}. Only the following can be updated: driver_info, extra, instance_info, name, properties`);
  }
}

const NODE_KEYS = [
  'uuid', 'name', 'driver', 'provision_state', 'target_provision_state', 'power_state', 'target_power_state', 'last_error',
  'maintenance', 'maintenance_reason', 'fault', 'reservation', 'instance_info', 'driver_info', 'properties', 'extra',
] as const;

/** The node as Ironic shows it: passwords masked, only the requested fields. */
function nodeView(node: FakeNode, fields: string[] | undefined): Record<string, unknown> {
  const masked = Object.fromEntries(Object.entries(node.driver_info).map(([key, value]) => [key, key.endsWith('password') ? '******' : value]));
  const full: Record<string, unknown> = { ...node.interfaces };
  for (const key of NODE_KEYS) full[key] = key === 'driver_info' ? masked : node[key];
  if (!fields) return full;
  for (const field of fields) if (!(field in full)) throw new IronicRefusal(400, `Field(s) "${field}" are not valid`);
  return Object.fromEntries(fields.map((field) => [field, full[field]]));
}

function checkVersion(version: string | undefined): void {
  if (version === undefined) throw new IronicRefusal(406, 'The fake Ironic requires X-OpenStack-Ironic-API-Version (Ironic would act as 1.1).');
  const [major, minor] = version.split('.').map(Number);
  const [, maxMinor] = FAKE_IRONIC_MAX_VERSION.split('.').map(Number);
  if (major !== 1 || minor === undefined || maxMinor === undefined || minor > maxMinor) {
    throw new IronicRefusal(406, `Version ${version} was requested but the minor version is not supported by this service. The supported version range is: [1.1, ${FAKE_IRONIC_MAX_VERSION}].`);
  }
}

function versionDocument(): unknown {
  return { id: 'v1', version: { id: 'v1', status: 'CURRENT', min_version: '1.1', version: FAKE_IRONIC_MAX_VERSION } };
}

/** Ironic's error format: a JSON document as a string inside `error_message`. */
function errorBody(faultstring: string): unknown {
  return { error_message: JSON.stringify({ faultcode: 'Client', faultstring, debuginfo: null }) };
}

function send(response: http.ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = {
    'x-openstack-ironic-api-minimum-version': '1.1',
    'x-openstack-ironic-api-maximum-version': FAKE_IRONIC_MAX_VERSION,
  };
  if (reply.body === undefined) {
    response.writeHead(reply.status, headers).end();
    return;
  }
  response.writeHead(reply.status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
}

function record(body: unknown): Record<string, unknown> {
  return isRecord(body) ? body : {};
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
