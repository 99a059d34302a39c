/**
 * BareMetalProvisioner backed by OpenStack Ironic, after Metal3's Ironic provisioner. Each method
 * reads the node, does at most one step, and says what to do next. A host's node is its own only
 * (node-owner.ts): found by the recorded UUID or the host's node name, and used only when it
 * carries the host's mark; a node of another host is a conflict, never touched.
 */
import { parseBmcAddress, type BmcAddress } from '../../domain/baremetal/bmc-address.js';
import type { BmcCredentials, ConfigDrive, HostImage } from '../../domain/baremetal/host.js';
import type { BareMetalProvisioner, HostObservation, PowerAction, ProvisionerHost, Progress, StepOptions } from '../../domain/baremetal/provisioner.js';
import type { HostErrorType, HostState } from '../../domain/baremetal/states.js';
import type { IronicClient, PowerTarget, ProvisionTarget } from './client.js';
import { describeNode, findOwnNode, ownerOf, type FindOptions } from './node-owner.js';
import { isIronicApiError, isNodeLocked, redact } from './errors.js';
import { FAILURE_STATES, failureMessage, hostStateOf, inTransition, IronicPower, IronicState as S, type IronicNode } from './node.js';
import {
  DEFAULT_NODE_SETTINGS,
  configDriveBody,
  driverInfo,
  driverInfoPatch,
  instanceInfo,
  nodeCreateBody,
  type NodeRequestSettings,
} from './node-request.js';

export interface IronicProvisionerOptions extends Partial<NodeRequestSettings> {
  /** When to look again at a quick step (verify, power, a locked node). Default 3 s. */
  quickPollMs?: number;
  /** When to look again at a long step (clean, deploy). Default 10 s, as Metal3. */
  slowPollMs?: number;
}

const POWER_TARGETS: Readonly<Record<PowerAction, PowerTarget>> = { on: 'power on', off: 'power off', reboot: 'rebooting' };
/** Ironic 21 aborts only while waiting on an agent for cleaning, inspection or rescue. */
const ABORTABLE_STATES: ReadonlySet<string> = new Set([S.cleanWait, S.inspectWait, S.rescueWait]);
const DELETABLE_STATES: ReadonlySet<string> = new Set([S.enroll, S.manageable, S.available]);
const DEPLOYED_STATES: ReadonlySet<string> = new Set([S.active, S.deploying, S.deployWait, S.rescue, S.rescuing, S.rescueWait, S.unrescuing]);

/** The first look after a provision-state request. */
const FIRST_CHECK_MS = 250;

export class IronicProvisioner implements BareMetalProvisioner {
  private readonly settings: NodeRequestSettings;
  private readonly quickMs: number;
  private readonly slowMs: number;

  constructor(
    private readonly client: IronicClient,
    options: IronicProvisionerOptions = {},
  ) {
    this.settings = {
      resourceClass: options.resourceClass ?? DEFAULT_NODE_SETTINGS.resourceClass,
      ipmiCipherSuite: options.ipmiCipherSuite ?? DEFAULT_NODE_SETTINGS.ipmiCipherSuite,
      interfaces: options.interfaces ?? DEFAULT_NODE_SETTINGS.interfaces,
    };
    this.quickMs = options.quickPollMs ?? 3_000;
    this.slowMs = options.slowPollMs ?? 10_000;
  }

  register(host: ProvisionerHost, credentials: BmcCredentials, options: StepOptions = {}): Promise<Progress> {
    return this.step(host, 'registering', 'registration error', async () => {
      const bmc = parseBmcAddress(host.bmc.address);
      let node = await this.ownNode(host, { byMac: true, claim: true });
      const created = node === undefined;
      node ??= await this.createNode(host, bmc, credentials);
      if (node.driver !== '' && node.driver !== bmc.driver) {
        return this.failed('registration error', `Ironic node ${describeNode(node)} uses driver ${node.driver} but the BMC address needs ${bmc.driver}: remove the host and register it again`, node);
      }
      const portProblem = await this.ensurePort(node, host.bootMacAddress);
      if (portProblem !== undefined) return this.failed('registration error', portProblem, node);
      return this.advanceRegistration(host, bmc, credentials, node, created, options);
    }, [credentials.password]);
  }

  makeAvailable(host: ProvisionerHost, options: StepOptions = {}): Promise<Progress> {
    return this.step(host, 'preparing', 'preparation error', async () => {
      const node = await this.ownNode(host);
      if (!node) return this.failed('registration error', `host ${host.name} has no Ironic node: register it first`);
      switch (node.provisionState) {
        case S.enroll:
          if (inTransition(node)) return this.wait('registering', this.quickMs, node);
          return this.failed('registration error', node.lastError ?? 'the node is not verified yet: register it first', node);
        case S.verifying:
          return this.wait('registering', this.quickMs, node);
        case S.manageable:
          if (inTransition(node)) return this.wait('preparing', this.quickMs, node);
          return this.request(node, 'provide', 'preparing', this.slowMs);
        case S.cleanFailed:
        case S.inspectFailed:
          return options.restartOnFailure ? this.request(node, 'manage', 'preparing', this.quickMs) : this.failedFrom(node);
        case S.error:
          return options.restartOnFailure ? this.request(node, 'deleted', 'preparing', this.slowMs) : this.failedFrom(node);
        case S.available:
          return inTransition(node) ? this.wait('preparing', this.slowMs, node) : this.done('available', node);
        case S.inspecting:
        case S.inspectWait:
        case S.cleaning:
        case S.cleanWait:
        case S.deleting:
          return this.wait(standingState(node), this.slowMs, node);
        default:
          // Deploying, deployed or failed deploying: past available; provision() takes it from here.
          return this.done(standingState(node), node);
      }
    });
  }

  provision(host: ProvisionerHost, image: HostImage, configDrive: ConfigDrive, options: StepOptions = {}): Promise<Progress> {
    return this.step(host, 'provisioning', 'provisioning error', async () => {
      const node = await this.ownNode(host);
      if (!node) return this.failed('provisioning error', `host ${host.name} has no Ironic node: register it first`);
      switch (node.provisionState) {
        case S.available:
          if (inTransition(node)) return this.wait('provisioning', this.slowMs, node);
          return this.deploy(host, node, image, configDrive);
        case S.deployFailed:
          return options.restartOnFailure ? this.deploy(host, node, image, configDrive) : this.failedFrom(node);
        case S.active:
          if (inTransition(node)) return this.wait('provisioning', this.slowMs, node);
          if (node.instanceInfo.image_source !== image.url) {
            return this.failed('provisioning error', `the host is already provisioned with ${String(node.instanceInfo.image_source)}: deprovision it first`, node);
          }
          return this.done('provisioned', node);
        case S.deploying:
        case S.deployWait:
        case S.cleaning:
        case S.cleanWait:
          return this.wait(node.provisionState.startsWith('clean') ? 'preparing' : 'provisioning', this.slowMs, node);
        default:
          return this.failed('provisioning error', `the host is not available for provisioning (Ironic state "${node.provisionState}")`, node);
      }
    });
  }

  deprovision(host: ProvisionerHost, options: StepOptions = {}): Promise<Progress> {
    return this.step(host, 'deprovisioning', 'deprovisioning error', async () => {
      const node = await this.ownNode(host);
      if (!node) return this.done('enrolled');
      switch (node.provisionState) {
        case S.available:
          return inTransition(node) ? this.wait('deprovisioning', this.slowMs, node) : this.done('available', node);
        case S.active:
        case S.deployFailed:
        case S.deployWait:
        case S.rescue:
        case S.rescueWait:
        case S.rescueFailed:
        case S.unrescueFailed:
          // `deleted` is accepted in all of these, a deploy waiting for its agent included.
          return this.request(node, 'deleted', 'deprovisioning', this.slowMs);
        case S.manageable:
          return inTransition(node) ? this.wait('deprovisioning', this.slowMs, node) : this.request(node, 'provide', 'deprovisioning', this.slowMs);
        case S.error:
          return options.restartOnFailure ? this.request(node, 'deleted', 'deprovisioning', this.slowMs) : this.failedFrom(node);
        case S.cleanFailed:
        case S.inspectFailed:
          return options.restartOnFailure ? this.request(node, 'manage', 'deprovisioning', this.quickMs) : this.failedFrom(node);
        case S.enroll:
          if (inTransition(node)) return this.wait('deprovisioning', this.quickMs, node);
          return this.failed('deprovisioning error', node.lastError ?? 'the node was never verified: remove it instead', node);
        default:
          return this.wait('deprovisioning', this.slowMs, node);
      }
    });
  }

  setPower(host: ProvisionerHost, action: PowerAction): Promise<Progress> {
    return this.step(host, 'current', 'power management error', async () => {
      const node = await this.ownNode(host);
      if (!node) return this.failed('power management error', `host ${host.name} has no Ironic node: register it first`);
      const state = hostStateOf(node).state;
      if (node.targetPowerState !== null) return this.wait(state, this.quickMs, node);
      if (node.provisionState === S.enroll || node.provisionState === S.verifying) {
        return this.failed('power management error', 'the BMC has not been verified yet: register the host first', node);
      }
      if (action === 'on' && node.powerState === IronicPower.on) return this.done(state, node);
      if (action === 'off' && node.powerState === IronicPower.off) return this.done(state, node);
      await this.client.setPowerState(node.uuid, POWER_TARGETS[action]);
      return this.done(state, node);
    });
  }

  abort(host: ProvisionerHost): Promise<Progress> {
    return this.step(host, 'current', 'cancelled', async () => {
      const node = await this.ownNode(host);
      if (!node) return this.done('enrolled');
      if (ABORTABLE_STATES.has(node.provisionState)) await this.client.setProvisionState(node.uuid, 'abort');
      return this.done(hostStateOf(node).state, node);
    });
  }

  remove(host: ProvisionerHost): Promise<Progress> {
    return this.step(host, 'deleting', 'deprovisioning error', async () => {
      const node = await this.ownNode(host);
      if (!node) return this.done('enrolled');
      if (FAILURE_STATES.has(node.provisionState)) {
        // Ironic deletes failed nodes only in maintenance; there is nothing left to protect.
        if (!node.maintenance) await this.client.setMaintenance(node.uuid, `removed by Slipway from state ${node.provisionState}`);
      } else if (!DELETABLE_STATES.has(node.provisionState)) {
        if (inTransition(node) && !DEPLOYED_STATES.has(node.provisionState)) return this.wait('deleting', this.quickMs, node);
        return this.failed('deprovisioning error', `the host is "${node.provisionState}" in Ironic: deprovision it before removing it`, node);
      } else if (inTransition(node)) {
        return this.wait('deleting', this.quickMs, node);
      }
      await this.client.deleteNode(node.uuid);
      return this.done('enrolled');
    });
  }

  async status(host: ProvisionerHost): Promise<HostObservation> {
    const owned = await findOwnNode(this.client, host, { byMac: false, claim: false });
    if (owned.kind === 'conflict') {
      return { registered: false, state: 'error', error: { type: 'registration error', message: owned.message }, powerChanging: false, problem: { kind: 'conflict', message: owned.message } };
    }
    if (owned.kind === 'missing') {
      const problem = owned.gone ? { problem: { kind: 'gone' as const, message: `Ironic has no node ${host.node.nodeId ?? ''} any more (the node recorded for the host was deleted)` } } : {};
      return { registered: false, state: 'enrolled', powerChanging: false, ...problem };
    }
    const node = owned.node;
    const { state, error } = hostStateOf(node);
    return {
      registered: true,
      nodeId: node.uuid,
      state,
      ...(error ? { error } : {}),
      ...(node.powerState === IronicPower.on || node.powerState === IronicPower.off ? { poweredOn: node.powerState === IronicPower.on } : {}),
      powerChanging: node.targetPowerState !== null,
      detail: {
        provisionState: node.provisionState,
        ...(node.targetProvisionState !== null ? { targetProvisionState: node.targetProvisionState } : {}),
        ...(node.lastError !== null ? { lastError: node.lastError } : {}),
        maintenance: node.maintenance,
      },
    };
  }

  /** After create/find: send `manage` when the node sits in enroll, report where it is otherwise. */
  private async advanceRegistration(host: ProvisionerHost, bmc: BmcAddress, credentials: BmcCredentials, node: IronicNode, created: boolean, options: StepOptions): Promise<Progress> {
    if (node.provisionState === S.verifying || (node.provisionState === S.enroll && inTransition(node))) return this.wait('registering', this.quickMs, node);
    if (node.provisionState !== S.enroll) {
      // A new job (restartOnFailure) refreshes the credentials, so a rotated BMC password lands.
      if (options.restartOnFailure && !created && !inTransition(node) && bmc.driver !== 'fake-hardware') {
        await this.client.updateNode(node.uuid, driverInfoPatch(driverInfo(host, bmc, credentials, this.settings)), [credentials.password]);
      }
      // Verified; whatever else the node is doing (or failed doing) is for the later steps.
      return this.done(standingState(node), node);
    }
    if (node.lastError !== null && !options.restartOnFailure) return this.failed('registration error', node.lastError, node);
    if (!created && bmc.driver !== 'fake-hardware') {
      await this.client.updateNode(node.uuid, driverInfoPatch(driverInfo(host, bmc, credentials, this.settings)), [credentials.password]);
    }
    return this.request(node, 'manage', 'registering', this.quickMs);
  }

  /** The host's own node, or undefined when it has none; a node of another host throws NodeConflict. */
  private async ownNode(host: ProvisionerHost, options: FindOptions = { byMac: false, claim: true }): Promise<IronicNode | undefined> {
    const owned = await findOwnNode(this.client, host, options);
    if (owned.kind === 'conflict') throw new NodeConflict(owned.message);
    return owned.kind === 'found' ? owned.node : undefined;
  }

  private async createNode(host: ProvisionerHost, bmc: BmcAddress, credentials: BmcCredentials): Promise<IronicNode> {
    try {
      return await this.client.createNode(nodeCreateBody(host, bmc, credentials, this.settings), [credentials.password]);
    } catch (error: unknown) {
      // Another worker created it between our look-up and our POST: use theirs.
      if (!isIronicApiError(error, 409)) throw error;
      const node = await this.ownNode(host);
      if (!node) throw error;
      return node;
    }
  }

  /** Creates the boot port if missing; says why when the MAC belongs to another node (and whose it is). */
  private async ensurePort(node: IronicNode, mac: string): Promise<string | undefined> {
    const port = await this.client.findPortByAddress(mac);
    if (port?.nodeUuid === node.uuid) return undefined;
    if (port) {
      const other = await this.client.getNode(port.nodeUuid);
      const owner = other ? ownerOf(other) : undefined;
      return `boot MAC ${mac} already belongs to Ironic node ${other ? describeNode(other) : port.nodeUuid}${owner ? `, host ${owner.label}'s` : ''}`;
    }
    try {
      await this.client.createPort(node.uuid, mac);
      return undefined;
    } catch (error: unknown) {
      if (!isIronicApiError(error, 409)) throw error;
      const raced = await this.client.findPortByAddress(mac);
      return raced?.nodeUuid === node.uuid ? undefined : `boot MAC ${mac} already belongs to another Ironic node`;
    }
  }

  private async deploy(host: ProvisionerHost, node: IronicNode, image: HostImage, configDrive: ConfigDrive): Promise<Progress> {
    // Replaced whole, as Metal3 does: what a failed deploy left there (a masked configdrive,
    // another image's format) must not leak into this one.
    await this.client.updateNode(node.uuid, [{ op: 'add', path: '/instance_info', value: instanceInfo(image) }]);
    return this.request(node, 'active', 'provisioning', this.slowMs, { configdrive: configDriveBody(host, configDrive) });
  }

  /**
   * Sends a provision-state change. A 400 may mean a retried PUT already went through (the node
   * moved) — look again; if the node has not moved, Ironic refused for a reason worth reporting.
   */
  private async request(node: IronicNode, target: ProvisionTarget, state: HostState, retryAfterMs: number, extra: Record<string, unknown> = {}): Promise<Progress> {
    try {
      await this.client.setProvisionState(node.uuid, target, extra);
      // Look once soon after asking: quick transitions (verify on a reachable BMC, a fake or
      // already-clean node) are over within moments, and one cheap read saves a whole interval.
      return this.wait(state, Math.min(retryAfterMs, FIRST_CHECK_MS), node);
    } catch (error: unknown) {
      if (!isIronicApiError(error, 400)) throw error;
      const now = await this.client.getNode(node.uuid);
      if (now && (inTransition(now) || now.provisionState !== node.provisionState)) return this.wait(state, retryAfterMs, now);
      return this.failed(errorTypeFor(state), error.fault, node);
    }
  }

  private failedFrom(node: IronicNode): Progress {
    const { error } = hostStateOf(node);
    return { done: false, state: 'error', error: error ?? { type: 'provisioning error', message: failureMessage(node) }, nodeId: node.uuid };
  }

  private done(state: HostState, node?: IronicNode): Progress {
    return { done: true, state, ...(node ? { nodeId: node.uuid } : {}) };
  }

  private wait(state: HostState, retryAfterMs: number, node?: IronicNode): Progress {
    return { done: false, state, retryAfterMs, ...(node ? { nodeId: node.uuid } : {}) };
  }

  private failed(type: HostErrorType, message: string, node?: IronicNode): Progress {
    return { done: false, state: 'error', error: { type, message }, ...(node ? { nodeId: node.uuid } : {}) };
  }

  /**
   * Runs one step: a locked node means "look again soon"; Ironic refusing a request (4xx) becomes
   * the step's error; unreachable or failing Ironic (5xx, network) is thrown for the caller to
   * retry. Every message is scrubbed of the given secrets. `working` is the state to report while
   * locked; `current` reads it from the node (power and abort change no provision state).
   */
  private async step(host: ProvisionerHost, working: HostState | 'current', errorType: HostErrorType, body: () => Promise<Progress>, secrets: readonly string[] = []): Promise<Progress> {
    try {
      const progress = await body();
      return progress.error ? { ...progress, error: { ...progress.error, message: redact(progress.error.message, secrets) } } : progress;
    } catch (error: unknown) {
      if (error instanceof NodeConflict) return this.failed(errorType, error.message);
      if (isNodeLocked(error)) return this.wait(working === 'current' ? await this.currentState(host) : working, this.quickMs);
      if (isIronicApiError(error) && error.httpStatus >= 400 && error.httpStatus < 500 && error.httpStatus !== 406) {
        return this.failed(errorType, redact(error.fault, secrets));
      }
      throw error;
    }
  }

  private async currentState(host: ProvisionerHost): Promise<HostState> {
    const node = await this.client.getNode(host.name);
    return node ? hostStateOf(node).state : 'enrolled';
  }
}

/** The node found for a host is another host's (or nobody's): the step fails with this message. */
class NodeConflict extends Error {}

/** The host state of a node, failed ones placed at the step that failed (for steps that come before it). */
function standingState(node: IronicNode): HostState {
  const { state } = hostStateOf(node);
  if (state !== 'error') return state;
  switch (node.provisionState) {
    case S.deployFailed:
    case S.adoptFailed:
      return 'provisioning';
    case S.cleanFailed:
      return 'preparing';
    case S.inspectFailed:
      return 'inspecting';
    case S.error:
      return 'deprovisioning';
    case S.enroll:
      return 'registering';
    default:
      return 'provisioned';
  }
}

function errorTypeFor(state: HostState): HostErrorType {
  switch (state) {
    case 'registering':
      return 'registration error';
    case 'preparing':
      return 'preparation error';
    case 'provisioning':
      return 'provisioning error';
    default:
      return 'deprovisioning error';
  }
}
