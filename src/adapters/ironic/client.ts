/**
 * A small client for Ironic's REST API (the subset Slipway uses). What it takes care of:
 *
 * - Microversions: `GET /v1` once, then every request carries `X-OpenStack-Ironic-API-Version`
 *   with the highest version both sides know (without the header Ironic behaves as 1.1). A 406
 *   (Ironic was downgraded under us) renegotiates once.
 * - Errors: Ironic's doubly encoded fault is decoded into an IronicApiError that names the method,
 *   path and Ironic's sentence. Bodies are never quoted, so BMC passwords stay out of messages.
 * - "Node locked" (409 while the conductor works on the node) is retried with backoff and jitter;
 *   after the last try the IronicApiError has `nodeLocked` set and the caller requeues.
 * - Network failures, 503 and 504 are retried by requestWithRetry (POST only when surely unsent).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { UpstreamError } from '../../errors.js';
import { requestWithRetry, type HttpResponse } from '../http-client.js';
import { IRONIC, IronicApiError, decodeIronicFault, redact } from './errors.js';
import { NODE_FIELDS, inTransition, parseNode, parsePorts, type IronicNode, type IronicPort } from './node.js';

/** Config drive as a JSON object in `active` needs 1.56. */
export const MIN_API_VERSION = '1.56';
/** The highest version Slipway was tested against (Ironic 21.4 offers 1.82). */
export const PREFERRED_API_VERSION = '1.78';

export interface IronicClientOptions {
  /** Ironic's base URL, for example http://127.0.0.1:6385 (user info becomes Basic auth). */
  endpoint: string;
  /** Deadline of one request, its network retries included. Default 30 s. */
  requestTimeoutMs?: number;
  /** Extra attempts when the node is locked. Default 4. */
  lockedRetries?: number;
  /** First wait after a "node locked"; doubles per attempt, plus 0–25 % jitter. Default 500 ms. */
  lockedRetryBaseMs?: number;
  /** Extra headers on every request (an `X-Auth-Token` when Ironic sits behind Keystone). */
  headers?: Record<string, string>;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export type JsonPatchOperation =
  | { op: 'add' | 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

export type ProvisionTarget = 'manage' | 'provide' | 'active' | 'deleted' | 'abort' | 'inspect' | 'clean' | 'rebuild';
export type PowerTarget = 'power on' | 'power off' | 'rebooting' | 'soft power off' | 'soft rebooting';

interface CallOptions {
  body?: unknown;
  /** Statuses that count as success; anything else throws IronicApiError. */
  expect: readonly number[];
  /** Strings to mask in any error message (the BMC password of a node being created). */
  secrets?: readonly string[];
}

export class IronicClient {
  private readonly endpoint: string;
  private readonly options: IronicClientOptions;
  private negotiated: Promise<string> | undefined;

  constructor(options: IronicClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.options = options;
  }

  /** The microversion this client sends, negotiating it on first use. */
  apiVersion(): Promise<string> {
    this.negotiated ??= this.negotiate().catch((error: unknown) => {
      this.negotiated = undefined;
      throw error;
    });
    return this.negotiated;
  }

  /** The node, or undefined when Ironic has no node by that name or UUID. */
  async getNode(ident: string): Promise<IronicNode | undefined> {
    const response = await this.call('GET', `/v1/nodes/${encodeURIComponent(ident)}?fields=${NODE_FIELDS}`, { expect: [200, 404] });
    return response.status === 404 ? undefined : parseNode(response.json);
  }

  async findPortByAddress(mac: string): Promise<IronicPort | undefined> {
    const response = await this.call('GET', `/v1/ports?address=${encodeURIComponent(mac)}&fields=uuid,node_uuid,address`, { expect: [200] });
    return parsePorts(response.json)[0];
  }

  async listPortsOfNode(nodeUuid: string): Promise<IronicPort[]> {
    const response = await this.call('GET', `/v1/ports?node_uuid=${encodeURIComponent(nodeUuid)}&fields=uuid,node_uuid,address`, { expect: [200] });
    return parsePorts(response.json);
  }

  async createNode(body: Record<string, unknown>, secrets: readonly string[] = []): Promise<IronicNode> {
    const response = await this.call('POST', '/v1/nodes', { body, expect: [201], secrets });
    return parseNode(response.json);
  }

  async createPort(nodeUuid: string, mac: string): Promise<void> {
    await this.call('POST', '/v1/ports', { body: { node_uuid: nodeUuid, address: mac, pxe_enabled: true }, expect: [201] });
  }

  async updateNode(ident: string, patch: readonly JsonPatchOperation[], secrets: readonly string[] = []): Promise<IronicNode> {
    const response = await this.call('PATCH', `/v1/nodes/${encodeURIComponent(ident)}`, { body: patch, expect: [200], secrets });
    return parseNode(response.json);
  }

  /** Asks for a provision-state change; Ironic answers 202 and works asynchronously. */
  async setProvisionState(ident: string, target: ProvisionTarget, extra: Record<string, unknown> = {}): Promise<void> {
    await this.call('PUT', `/v1/nodes/${encodeURIComponent(ident)}/states/provision`, { body: { target, ...extra }, expect: [202] });
  }

  async setPowerState(ident: string, target: PowerTarget): Promise<void> {
    await this.call('PUT', `/v1/nodes/${encodeURIComponent(ident)}/states/power`, { body: { target }, expect: [202] });
  }

  async setMaintenance(ident: string, reason: string): Promise<void> {
    await this.call('PUT', `/v1/nodes/${encodeURIComponent(ident)}/maintenance`, { body: { reason }, expect: [202] });
  }

  /** Deletes the node (and its ports); a node that is already gone counts as deleted. */
  async deleteNode(ident: string): Promise<void> {
    await this.call('DELETE', `/v1/nodes/${encodeURIComponent(ident)}`, { expect: [204, 404] });
  }

  /**
   * Polls the node until Ironic has finished its provision-state change (target null, or a
   * failed state) and no power change is pending, then returns it; `provision_state` and
   * `last_error` tell whether it went well. For tools and tests: the provisioner never blocks.
   */
  async waitForNode(ident: string, options: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal }): Promise<IronicNode> {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const node = await this.getNode(ident);
      if (!node) throw new UpstreamError(IRONIC, `node ${ident} disappeared while waiting for it`, 502, 'ironic_not_found');
      if (!inTransition(node) && node.targetPowerState === null) return node;
      if (Date.now() >= deadline) {
        throw new UpstreamError(IRONIC, `node ${ident} still ${node.provisionState} → ${node.targetProvisionState ?? node.targetPowerState} after ${options.timeoutMs} ms`, 504, 'upstream_timeout');
      }
      await delay(options.intervalMs ?? 1_000, undefined, { signal: options.signal });
    }
  }

  private async negotiate(): Promise<string> {
    const response = await this.send('GET', '/v1', undefined, {});
    if (response.status !== 200) throw this.apiError('GET', '/v1', response, []);
    const maximum = response.headers['x-openstack-ironic-api-maximum-version'] ?? versionFromBody(response.text);
    if (maximum === undefined) throw new UpstreamError(IRONIC, 'GET /v1 did not say which API versions it supports');
    if (compareVersions(maximum, MIN_API_VERSION) < 0) {
      throw new UpstreamError(IRONIC, `offers API ${maximum} at most; Slipway needs ${MIN_API_VERSION} or later (Ironic 13 / Train)`, 502, 'ironic_version_unsupported');
    }
    return compareVersions(maximum, PREFERRED_API_VERSION) < 0 ? maximum : PREFERRED_API_VERSION;
  }

  private async call(method: string, path: string, options: CallOptions): Promise<{ status: number; json: unknown }> {
    const retries = this.options.lockedRetries ?? 4;
    let renegotiated = false;
    for (let attempt = 0; ; attempt += 1) {
      const version = await this.apiVersion();
      const response = await this.send(method, path, options.body, { 'x-openstack-ironic-api-version': version });
      if (options.expect.includes(response.status)) return { status: response.status, json: parseBody(response.text) };
      if (response.status === 406 && !renegotiated) {
        renegotiated = true;
        this.negotiated = undefined;
        continue;
      }
      const error = this.apiError(method, path, response, options.secrets ?? []);
      if (!error.nodeLocked || attempt >= retries) throw error;
      await this.pause(this.lockedDelay(attempt));
    }
  }

  private send(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<HttpResponse> {
    return requestWithRetry(IRONIC, `${this.endpoint}${path}`, {
      method,
      headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...this.options.headers, ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      timeoutMs: this.options.requestTimeoutMs ?? 30_000,
      ...(this.options.random ? { random: this.options.random } : {}),
    });
  }

  private apiError(method: string, path: string, response: HttpResponse, secrets: readonly string[]): IronicApiError {
    const fault = redact(decodeIronicFault(response.text, response.status), secrets);
    return new IronicApiError(method, path.split('?')[0] ?? path, response.status, fault);
  }

  private lockedDelay(attempt: number): number {
    const base = (this.options.lockedRetryBaseMs ?? 500) * 2 ** attempt;
    return Math.round(base * (1 + 0.25 * (this.options.random ?? Math.random)()));
  }

  private pause(ms: number): Promise<void> {
    return this.options.sleep ? this.options.sleep(ms) : delay(ms);
  }
}

function parseBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UpstreamError(IRONIC, 'sent a response that is not JSON');
  }
}

function versionFromBody(text: string): string | undefined {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body !== 'object' || body === null || !('version' in body)) return undefined;
    const version: unknown = body.version;
    if (typeof version !== 'object' || version === null || !('version' in version)) return undefined;
    return typeof version.version === 'string' ? version.version : undefined;
  } catch {
    return undefined;
  }
}

/** Compares `major.minor` versions numerically (1.9 < 1.56). */
export function compareVersions(left: string, right: string): number {
  const [leftMajor = 0, leftMinor = 0] = left.split('.').map(Number);
  const [rightMajor = 0, rightMinor = 0] = right.split('.').map(Number);
  return leftMajor !== rightMajor ? leftMajor - rightMajor : leftMinor - rightMinor;
}
