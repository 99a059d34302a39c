/**
 * TEST DOUBLE (part of the fake Ironic): the node store and its state machine. Transitions follow
 * Ironic 21 (ironic/common/states.py) but advance one stage per read of the node instead of on a
 * conductor's clock, so tests are fast and deterministic. Faults are injected per host name.
 */
import { randomUUID } from 'node:crypto';

export type Fault =
  /** Verification fails: the BMC does not answer. */
  | { kind: 'bmc-unreachable' }
  /** Verification fails until driver_info carries `correctPassword` (never, when absent). */
  | { kind: 'wrong-credentials'; correctPassword?: string }
  /** The deploy ends in `deploy failed` with `message` as last_error. */
  | { kind: 'deploy-failure'; message?: string }
  /** The next `times` writes to the node answer 409 "locked". */
  | { kind: 'locked'; times: number }
  /** The deploy waits for an agent that never calls back. */
  | { kind: 'slow-deploy' }
  /** Cleaning waits in `clean wait` forever (abortable, as in Ironic). */
  | { kind: 'slow-clean' }
  /** Power changes end without reaching the target, with an IPMI error. */
  | { kind: 'power-failure' };

export interface FakeNode {
  uuid: string;
  name: string | null;
  driver: string;
  driver_info: Record<string, unknown>;
  instance_info: Record<string, unknown>;
  properties: Record<string, unknown>;
  extra: Record<string, unknown>;
  interfaces: Record<string, unknown>;
  provision_state: string;
  target_provision_state: string | null;
  power_state: string | null;
  target_power_state: string | null;
  last_error: string | null;
  maintenance: boolean;
  maintenance_reason: string | null;
  fault: string | null;
  reservation: string | null;
  /** The config drive of the last `active` request (for assertions). */
  configdrive?: unknown;
}

export class IronicRefusal extends Error {
  constructor(
    readonly status: number,
    readonly faultstring: string,
  ) {
    super(faultstring);
  }
}

/** States whose work the double advances on every read. */
const BUSY_STATES = new Set(['verifying', 'cleaning', 'clean wait', 'deploying', 'wait call-back', 'deleting']);

export class NodeStore {
  readonly nodes = new Map<string, FakeNode>();
  readonly ports = new Map<string, { uuid: string; node_uuid: string; address: string }>();
  private readonly faults = new Map<string, Fault[]>();
  private readonly deployStages = new Map<string, number>();
  /** Highest number of nodes Ironic was working on at once (verifying, cleaning, deploying…). */
  maxBusy = 0;
  /** Highest number of nodes deploying at once. */
  maxDeploying = 0;

  /**
   * Faults are injected per Slipway host name: they hit the node named `<site>.<host>` (as Slipway
   * names nodes) for any site, or a node named exactly so.
   */
  inject(hostName: string, fault: Fault): void {
    this.faults.set(hostName, [...(this.faults.get(hostName) ?? []), fault]);
  }

  clearFaults(hostName: string): void {
    this.faults.delete(hostName);
  }

  find(ident: string): FakeNode | undefined {
    return this.nodes.get(ident) ?? [...this.nodes.values()].find((node) => node.name === ident);
  }

  get(ident: string): FakeNode {
    const node = this.find(ident);
    if (!node) throw new IronicRefusal(404, `Node ${ident} could not be found.`);
    return node;
  }

  create(body: Record<string, unknown>): FakeNode {
    const name = typeof body.name === 'string' ? body.name : null;
    if (name !== null && this.find(name)) throw new IronicRefusal(409, `A node with name ${name} already exists.`);
    const driver = String(body.driver ?? '');
    const driverInfo = isRecord(body.driver_info) ? body.driver_info : {};
    if (!['fake-hardware', 'ipmi', 'redfish'].includes(driver)) throw new IronicRefusal(400, `Could not find the following driver(s) or hardware type(s): ${driver}.`);
    if (driver === 'ipmi' && driverInfo.ipmi_address === undefined) throw new IronicRefusal(400, 'Missing the following IPMI credentials in node\'s driver_info: [\'ipmi_address\'].');
    if (driver === 'redfish' && driverInfo.redfish_address === undefined) throw new IronicRefusal(400, 'Missing the following Redfish properties in node driver_info: redfish_address');
    const interfaces = Object.fromEntries(Object.entries(body).filter(([key]) => key.endsWith('_interface')));
    const node: FakeNode = {
      uuid: randomUUID(),
      name,
      driver,
      driver_info: { ...driverInfo },
      instance_info: {},
      properties: isRecord(body.properties) ? { ...body.properties } : {},
      extra: isRecord(body.extra) ? { ...body.extra } : {},
      interfaces,
      provision_state: 'enroll',
      target_provision_state: null,
      power_state: null,
      target_power_state: null,
      last_error: null,
      maintenance: false,
      maintenance_reason: null,
      fault: null,
      reservation: null,
    };
    this.nodes.set(node.uuid, node);
    return node;
  }

  /** Every write goes through here first: a `locked` fault answers 409 while it lasts. */
  checkLock(node: FakeNode): void {
    const lock = this.faultOf(node, 'locked');
    if (lock && lock.times > 0) {
      lock.times -= 1;
      throw new IronicRefusal(409, `Node ${node.uuid} is locked by host fake-conductor, please retry after the current operation is completed.`);
    }
  }

  setProvisionState(node: FakeNode, target: string, body: Record<string, unknown>): void {
    const invalid = (): IronicRefusal => new IronicRefusal(400, `The requested action "${target}" can not be performed on node "${node.uuid}" while it is in state "${node.provision_state}".`);
    const state = node.provision_state;
    switch (target) {
      case 'manage':
        if (state === 'enroll') return this.move(node, 'verifying', 'manageable');
        if (state === 'available' || state === 'clean failed' || state === 'inspect failed') return this.move(node, 'manageable', null);
        throw invalid();
      case 'provide':
        if (state !== 'manageable') throw invalid();
        return this.move(node, 'cleaning', 'available');
      case 'active':
        if (state !== 'available' && state !== 'deploy failed') throw invalid();
        if (typeof node.instance_info.image_source !== 'string') {
          throw new IronicRefusal(400, `Cannot validate image information for node ${node.uuid} because one or more parameters are missing from its instance_info. Missing are: ['image_source']`);
        }
        node.configdrive = body.configdrive;
        this.deployStages.set(node.uuid, 0);
        return this.move(node, 'deploying', 'active');
      case 'deleted':
        if (!['active', 'deploy failed', 'wait call-back', 'error'].includes(state)) throw invalid();
        return this.move(node, 'deleting', 'available');
      case 'abort':
        if (state === 'clean wait') {
          node.last_error = `Clean operation aborted for node ${node.uuid} on step "erase_devices".`;
          return this.move(node, 'clean failed', 'available');
        }
        throw invalid();
      default:
        throw invalid();
    }
  }

  setPowerState(node: FakeNode, target: string): void {
    if (!['power on', 'power off', 'rebooting', 'soft power off', 'soft rebooting'].includes(target)) {
      throw new IronicRefusal(400, `The requested action "${target}" can not be performed on node "${node.name ?? node.uuid}" while it is in state "${node.power_state}".`);
    }
    if (node.provision_state === 'enroll') throw new IronicRefusal(400, `Node ${node.uuid} is in enroll state; power actions need a verified BMC.`);
    node.last_error = null;
    node.target_power_state = target === 'rebooting' || target === 'soft rebooting' ? 'power on' : target.replace('soft ', '');
  }

  /** Advances the node's current operation by one stage (called on every read of the node). */
  tick(node: FakeNode): void {
    if (node.target_power_state !== null) this.finishPower(node);
    if (BUSY_STATES.has(node.provision_state)) this.advance(node);
    this.measure();
  }

  private advance(node: FakeNode): void {
    switch (node.provision_state) {
      case 'verifying':
        return this.finishVerify(node);
      case 'cleaning':
        if (this.faultOf(node, 'slow-clean')) return this.move(node, 'clean wait', 'available');
        return this.move(node, 'available', null);
      case 'deploying':
      case 'wait call-back':
        return this.advanceDeploy(node);
      case 'deleting':
        node.instance_info = {};
        return this.move(node, 'cleaning', 'available');
    }
  }

  private finishVerify(node: FakeNode): void {
    const unreachable = this.faultOf(node, 'bmc-unreachable');
    const wrong = this.faultOf(node, 'wrong-credentials');
    const password = node.driver_info.ipmi_password ?? node.driver_info.redfish_password;
    if (unreachable || (wrong && (wrong.correctPassword === undefined || password !== wrong.correctPassword))) {
      node.last_error = unreachable ? unreachableMessage(node) : badCredentialsMessage(node);
      return this.move(node, 'enroll', null);
    }
    node.last_error = null;
    node.power_state = 'power off';
    this.move(node, 'manageable', null);
  }

  private advanceDeploy(node: FakeNode): void {
    const stage = (this.deployStages.get(node.uuid) ?? 0) + 1;
    this.deployStages.set(node.uuid, stage);
    const failure = this.faultOf(node, 'deploy-failure');
    if (stage === 1) return this.move(node, 'wait call-back', 'active');
    if (this.faultOf(node, 'slow-deploy')) return;
    if (failure && stage >= 2) {
      node.last_error = failure.message ?? `Deploy step deploy.write_image failed on node ${node.uuid}: image checksum mismatch.`;
      return this.move(node, 'deploy failed', 'active');
    }
    if (stage === 2) return this.move(node, 'deploying', 'active');
    node.power_state = 'power on';
    node.last_error = null;
    this.move(node, 'active', null);
  }

  private finishPower(node: FakeNode): void {
    if (this.faultOf(node, 'power-failure')) {
      node.last_error = `Failed to change power state to '${node.target_power_state}' by '${node.target_power_state}'. Error: IPMI call failed: ${node.target_power_state}.`;
    } else {
      node.power_state = node.target_power_state;
    }
    node.target_power_state = null;
  }

  private move(node: FakeNode, state: string, target: string | null): void {
    node.provision_state = state;
    node.target_provision_state = target;
    this.measure();
  }

  private measure(): void {
    const states = [...this.nodes.values()].map((node) => node.provision_state);
    this.maxBusy = Math.max(this.maxBusy, states.filter((state) => BUSY_STATES.has(state)).length);
    this.maxDeploying = Math.max(this.maxDeploying, states.filter((state) => state === 'deploying' || state === 'wait call-back').length);
  }

  private faultOf<K extends Fault['kind']>(node: FakeNode, kind: K): Extract<Fault, { kind: K }> | undefined {
    const faults = node.name === null ? undefined : (this.faults.get(node.name) ?? this.faults.get(node.name.slice(node.name.lastIndexOf('.') + 1)));
    return faults?.find((fault): fault is Extract<Fault, { kind: K }> => fault.kind === kind);
  }
}

/** What Ironic 21 writes to last_error when verification cannot reach the BMC. */
function unreachableMessage(node: FakeNode): string {
  if (node.driver === 'redfish') {
    return `Redfish connection failed for node ${node.uuid}: Unable to connect to ${String(node.driver_info.redfish_address)}. Error: Connection refused`;
  }
  return `Failed to get power state for node ${node.uuid}. Error: IPMI call failed: power status.`;
}

/** What Ironic 21 writes when the BMC refuses the credentials (IPMI cannot tell this from unreachable). */
function badCredentialsMessage(node: FakeNode): string {
  if (node.driver === 'redfish') {
    return `Redfish exception occurred. Error: HTTP GET ${String(node.driver_info.redfish_address)}/redfish/v1/ returned code 401. Base.1.0.GeneralError: Invalid username or password`;
  }
  return `Failed to get power state for node ${node.uuid}. Error: IPMI call failed: power status.`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
