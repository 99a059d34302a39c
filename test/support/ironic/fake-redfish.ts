/**
 * TEST DOUBLE of a server's Redfish BMC, enough for Ironic's `redfish` hardware type (sushy):
 * the service root, one ComputerSystem with PowerState, the ComputerSystem.Reset action and a
 * PATCHable Boot override, one Manager, and session or basic authentication. Plain HTTP on
 * 127.0.0.1:<random port>: address it as redfish+http://127.0.0.1:<port>/redfish/v1/Systems/1.
 * No Redfish emulator is packaged for Debian, so the suite carries this one.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRedfishBmc {
  /** BMC address for a host spec. */
  address: string;
  username: string;
  password: string;
  powerState(): 'On' | 'Off';
  /** Reset types received, in order (On, ForceOff, ForceRestart…). */
  resets: string[];
  boot(): { enabled: string; target: string; mode: string };
  /** Requests refused for bad credentials. */
  unauthorized: number;
  close(): Promise<void>;
}

const ROOT = '/redfish/v1';
const SYSTEM = `${ROOT}/Systems/1`;
const RESET = `${SYSTEM}/Actions/ComputerSystem.Reset`;
const SESSIONS = `${ROOT}/SessionService/Sessions`;
const MANAGER = `${ROOT}/Managers/BMC`;
const RESET_TYPES = ['On', 'ForceOff', 'GracefulShutdown', 'GracefulRestart', 'ForceRestart', 'ForceOn', 'PushPowerButton'];

export async function startFakeRedfishBmc(options: { username?: string; password?: string } = {}): Promise<FakeRedfishBmc> {
  const username = options.username ?? 'root';
  const password = options.password ?? `rf-${randomBytes(6).toString('hex')}`;
  const uuid = randomUUID();
  const sessions = new Map<string, string>();
  let power: 'On' | 'Off' = 'Off';
  let boot = { enabled: 'Disabled', target: 'None', mode: 'UEFI' };
  const state = { resets: [] as string[], unauthorized: 0 };

  const authorised = (request: http.IncomingMessage): boolean => {
    const token = request.headers['x-auth-token'];
    if (typeof token === 'string' && sessions.has(token)) return true;
    const basic = request.headers.authorization;
    return basic === `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  };

  const system = (): unknown => ({
    '@odata.id': SYSTEM,
    '@odata.type': '#ComputerSystem.v1_10_0.ComputerSystem',
    Id: '1',
    Name: 'Slipway test server',
    UUID: uuid,
    PowerState: power,
    SystemType: 'Physical',
    Status: { State: 'Enabled', Health: 'OK' },
    Boot: {
      BootSourceOverrideEnabled: boot.enabled,
      BootSourceOverrideTarget: boot.target,
      BootSourceOverrideMode: boot.mode,
      'BootSourceOverrideTarget@Redfish.AllowableValues': ['None', 'Pxe', 'Hdd', 'Cd', 'BiosSetup'],
    },
    Actions: { '#ComputerSystem.Reset': { target: RESET, 'ResetType@Redfish.AllowableValues': RESET_TYPES } },
    Links: { ManagedBy: [{ '@odata.id': MANAGER }], Chassis: [] },
  });

  const handle = (request: http.IncomingMessage, body: unknown): { status: number; body?: unknown; headers?: Record<string, string> } => {
    const path = (request.url ?? '/').split('?')[0]?.replace(/\/+$/, '') ?? '';
    const method = request.method ?? 'GET';
    if (method === 'GET' && path === ROOT) return { status: 200, body: serviceRoot(uuid) };
    if (method === 'POST' && path === SESSIONS) {
      const credentials = record(body);
      if (credentials.UserName !== username || credentials.Password !== password) {
        state.unauthorized += 1;
        return { status: 401, body: redfishError('Base.1.8.GeneralError', 'Invalid username or password') };
      }
      const token = randomBytes(16).toString('hex');
      const id = randomUUID();
      sessions.set(token, id);
      return { status: 201, body: { '@odata.id': `${SESSIONS}/${id}`, Id: id, UserName: username }, headers: { 'x-auth-token': token, location: `${SESSIONS}/${id}` } };
    }
    if (!authorised(request)) {
      state.unauthorized += 1;
      return { status: 401, body: redfishError('Base.1.8.GeneralError', 'Authentication required') };
    }
    if (method === 'DELETE' && path.startsWith(`${SESSIONS}/`)) {
      for (const [token, id] of sessions) if (path.endsWith(id)) sessions.delete(token);
      return { status: 204 };
    }
    if (method === 'GET' && path === `${ROOT}/Systems`) return { status: 200, body: collection(`${ROOT}/Systems`, [SYSTEM]) };
    if (method === 'GET' && path === `${ROOT}/Managers`) return { status: 200, body: collection(`${ROOT}/Managers`, [MANAGER]) };
    if (method === 'GET' && path === MANAGER) return { status: 200, body: { '@odata.id': MANAGER, Id: 'BMC', Name: 'Manager', ManagerType: 'BMC', Status: { State: 'Enabled' } } };
    if (method === 'GET' && path === SYSTEM) return { status: 200, body: system() };
    if (method === 'PATCH' && path === SYSTEM) {
      const patch = record(record(body).Boot);
      boot = {
        enabled: typeof patch.BootSourceOverrideEnabled === 'string' ? patch.BootSourceOverrideEnabled : boot.enabled,
        target: typeof patch.BootSourceOverrideTarget === 'string' ? patch.BootSourceOverrideTarget : boot.target,
        mode: typeof patch.BootSourceOverrideMode === 'string' ? patch.BootSourceOverrideMode : boot.mode,
      };
      return { status: 204 };
    }
    if (method === 'POST' && path === RESET) {
      const type = String(record(body).ResetType);
      if (!RESET_TYPES.includes(type)) return { status: 400, body: redfishError('Base.1.8.ActionParameterValueNotInList', `ResetType ${type} is not supported`) };
      state.resets.push(type);
      power = type === 'ForceOff' || type === 'GracefulShutdown' ? 'Off' : type === 'PushPowerButton' ? (power === 'On' ? 'Off' : 'On') : 'On';
      return { status: 204 };
    }
    return { status: 404, body: redfishError('Base.1.8.ResourceMissingAtURI', `${path} does not exist`) };
  };

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
      } catch {
        parsed = undefined;
      }
      const reply = handle(request, parsed);
      const headers = { 'odata-version': '4.0', ...reply.headers, ...(reply.body === undefined ? {} : { 'content-type': 'application/json' }) };
      response.writeHead(reply.status, headers).end(reply.body === undefined ? undefined : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `redfish+http://127.0.0.1:${port}${SYSTEM}`,
    username,
    password,
    powerState: () => power,
    get resets() {
      return state.resets;
    },
    boot: () => ({ ...boot }),
    get unauthorized() {
      return state.unauthorized;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function serviceRoot(uuid: string): unknown {
  return {
    '@odata.id': `${ROOT}/`,
    '@odata.type': '#ServiceRoot.v1_5_0.ServiceRoot',
    Id: 'RootService',
    Name: 'Root Service',
    RedfishVersion: '1.8.0',
    UUID: uuid,
    Systems: { '@odata.id': `${ROOT}/Systems` },
    Managers: { '@odata.id': `${ROOT}/Managers` },
    SessionService: { '@odata.id': `${ROOT}/SessionService` },
    Links: { Sessions: { '@odata.id': SESSIONS } },
  };
}

function collection(id: string, members: string[]): unknown {
  return { '@odata.id': id, Name: 'Collection', Members: members.map((member) => ({ '@odata.id': member })), 'Members@odata.count': members.length };
}

function redfishError(code: string, message: string): unknown {
  return { error: { code, message, '@Message.ExtendedInfo': [{ MessageId: code, Message: message }] } };
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
