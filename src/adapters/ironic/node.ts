/**
 * Ironic's node record as far as Slipway reads it, parsed from `unknown` JSON, and how its
 * provision state translates into a Slipway host state.
 */
import type { HostError, HostErrorType, HostState } from '../../domain/baremetal/states.js';
import { UpstreamError } from '../../errors.js';
import { IRONIC } from './errors.js';

/** Ironic provision states (ironic/common/states.py). */
export const IronicState = {
  enroll: 'enroll',
  verifying: 'verifying',
  manageable: 'manageable',
  inspecting: 'inspecting',
  inspectWait: 'inspect wait',
  inspectFailed: 'inspect failed',
  cleaning: 'cleaning',
  cleanWait: 'clean wait',
  cleanFailed: 'clean failed',
  available: 'available',
  deploying: 'deploying',
  deployWait: 'wait call-back',
  deployFailed: 'deploy failed',
  active: 'active',
  deleting: 'deleting',
  error: 'error',
  adopting: 'adopting',
  adoptFailed: 'adopt failed',
  rescue: 'rescue',
  rescuing: 'rescuing',
  rescueWait: 'rescue wait',
  rescueFailed: 'rescue failed',
  unrescuing: 'unrescuing',
  unrescueFailed: 'unrescue failed',
} as const;

/** Ironic power states; `rebooting` and `soft *` are only ever targets. */
export const IronicPower = { on: 'power on', off: 'power off', rebooting: 'rebooting', error: 'error' } as const;

export interface IronicNode {
  uuid: string;
  name: string | null;
  driver: string;
  provisionState: string;
  targetProvisionState: string | null;
  powerState: string | null;
  targetPowerState: string | null;
  lastError: string | null;
  maintenance: boolean;
  maintenanceReason: string | null;
  fault: string | null;
  reservation: string | null;
  instanceInfo: Record<string, unknown>;
  driverInfo: Record<string, unknown>;
  extra: Record<string, unknown>;
}

/** What every read asks for: enough to decide the next step, nothing more. */
export const NODE_FIELDS = [
  'uuid',
  'name',
  'driver',
  'provision_state',
  'target_provision_state',
  'power_state',
  'target_power_state',
  'last_error',
  'maintenance',
  'maintenance_reason',
  'fault',
  'reservation',
  'instance_info',
  'driver_info',
  'extra',
].join(',');

export function parseNode(json: unknown): IronicNode {
  if (!isRecord(json) || typeof json.uuid !== 'string' || typeof json.provision_state !== 'string') {
    throw new UpstreamError(IRONIC, 'sent a node without uuid or provision_state');
  }
  return {
    uuid: json.uuid,
    name: stringOrNull(json.name),
    driver: typeof json.driver === 'string' ? json.driver : '',
    provisionState: json.provision_state,
    targetProvisionState: stringOrNull(json.target_provision_state),
    powerState: stringOrNull(json.power_state),
    targetPowerState: stringOrNull(json.target_power_state),
    lastError: stringOrNull(json.last_error),
    maintenance: json.maintenance === true,
    maintenanceReason: stringOrNull(json.maintenance_reason),
    fault: stringOrNull(json.fault),
    reservation: stringOrNull(json.reservation),
    instanceInfo: isRecord(json.instance_info) ? json.instance_info : {},
    driverInfo: isRecord(json.driver_info) ? json.driver_info : {},
    extra: isRecord(json.extra) ? json.extra : {},
  };
}

export interface IronicPort {
  uuid: string;
  nodeUuid: string;
  address: string;
}

export function parsePorts(json: unknown): IronicPort[] {
  const ports = isRecord(json) && Array.isArray(json.ports) ? json.ports : [];
  return ports.flatMap((port: unknown) => {
    if (!isRecord(port) || typeof port.uuid !== 'string' || typeof port.node_uuid !== 'string') return [];
    return [{ uuid: port.uuid, nodeUuid: port.node_uuid, address: typeof port.address === 'string' ? port.address : '' }];
  });
}

/** Slipway's view of a node: its host state, and the error when Ironic reports one. */
export function hostStateOf(node: IronicNode): { state: HostState; error?: HostError } {
  const failed = (type: HostErrorType): { state: 'error'; error: HostError } => ({ state: 'error', error: { type, message: failureMessage(node) } });
  switch (node.provisionState) {
    case IronicState.enroll:
      return node.lastError !== null && node.targetProvisionState === null ? failed('registration error') : { state: 'registering' };
    case IronicState.verifying:
      return { state: 'registering' };
    case IronicState.manageable:
    case IronicState.cleaning:
    case IronicState.cleanWait:
      return { state: 'preparing' };
    case IronicState.inspecting:
    case IronicState.inspectWait:
      return { state: 'inspecting' };
    case IronicState.inspectFailed:
      return failed('inspection error');
    case IronicState.cleanFailed:
      return failed('preparation error');
    case IronicState.available:
      return { state: 'available' };
    case IronicState.deploying:
    case IronicState.deployWait:
    case IronicState.adopting:
      return { state: 'provisioning' };
    case IronicState.deployFailed:
    case IronicState.adoptFailed:
      return failed('provisioning error');
    case IronicState.active:
    case IronicState.rescue:
    case IronicState.rescuing:
    case IronicState.rescueWait:
    case IronicState.rescueFailed:
    case IronicState.unrescuing:
    case IronicState.unrescueFailed:
      return { state: 'provisioned' };
    case IronicState.deleting:
      return { state: 'deprovisioning' };
    case IronicState.error:
      return failed('deprovisioning error');
    default:
      return { state: 'error', error: { type: 'provisioning error', message: `Ironic reports an unknown provision state "${node.provisionState}"` } };
  }
}

/** Ironic's last_error when it has one, else a sentence naming the state. */
export function failureMessage(node: IronicNode): string {
  return node.lastError ?? `Ironic reports the node in state "${node.provisionState}" without an error message`;
}

/**
 * Failed states keep their target (`deploy failed` still targets `active`), so "target set" alone
 * does not mean Ironic is working.
 */
export const FAILURE_STATES: ReadonlySet<string> = new Set([
  IronicState.deployFailed,
  IronicState.cleanFailed,
  IronicState.inspectFailed,
  IronicState.rescueFailed,
  IronicState.unrescueFailed,
  IronicState.adoptFailed,
  IronicState.error,
]);

/** Whether Ironic is still working on a provision-state change. */
export function inTransition(node: IronicNode): boolean {
  return node.targetProvisionState !== null && !FAILURE_STATES.has(node.provisionState);
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
