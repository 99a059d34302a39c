/**
 * Host provisioning states, after Metal3's BareMetalHost `status.provisioning.state`, and the pure
 * rules for moving between them. The error details (`errorType`, `errorMessage`) ride on the
 * `error` state, so a stored host row is `state`, `error_type`, `error_message`.
 *
 *   enrolled ─► registering ─► (inspecting) ─► preparing ─► available ─► provisioning ─► provisioned
 *                                                               ▲                             │
 *                                                               └──── deprovisioning ◄────────┘
 *   available / error ─► deleting ─► enrolled          any state ─► error (with a type)
 *
 * `enrolled`: Slipway knows the host, Ironic has no node for it (yet, or any more).
 * `delayed`: waiting for a provisioning slot (Metal3 shows this as operationalStatus `delayed`).
 */
export const HOST_STATES = [
  'enrolled',
  'delayed',
  'registering',
  'inspecting',
  'preparing',
  'available',
  'provisioning',
  'provisioned',
  'deprovisioning',
  'deleting',
  'error',
] as const;
export type HostState = (typeof HOST_STATES)[number];
export type HealthyHostState = Exclude<HostState, 'error'>;

export const HOST_ERROR_TYPES = [
  'registration error',
  'inspection error',
  'preparation error',
  'provisioning error',
  'power management error',
  'deprovisioning error',
  'timeout',
  'cancelled',
] as const;
export type HostErrorType = (typeof HOST_ERROR_TYPES)[number];

export interface HostError {
  type: HostErrorType;
  /** What went wrong, in Ironic's words where it said something. Never a credential. */
  message: string;
}

export type HostStatus = { state: HealthyHostState } | { state: 'error'; error: HostError };

export type HostEvent = { type: 'advance'; state: HealthyHostState } | { type: 'fail'; error: HostError };

export type TransitionResult = { ok: true; status: HostStatus } | { ok: false; reason: string };

/**
 * Which states may follow which. Generous on purpose where reality jumps: a register that finds
 * the node already deployed goes straight from `registering` to `provisioned`; a delayed host
 * resumes wherever it really is.
 */
const NEXT_STATES: Readonly<Record<HealthyHostState, readonly HealthyHostState[]>> = {
  enrolled: ['delayed', 'registering'],
  delayed: ['enrolled', 'registering', 'inspecting', 'preparing', 'available', 'provisioning', 'provisioned', 'deprovisioning', 'deleting'],
  registering: ['inspecting', 'preparing', 'available', 'provisioning', 'provisioned', 'deprovisioning', 'deleting'],
  inspecting: ['registering', 'preparing', 'available'],
  preparing: ['registering', 'available'],
  available: ['delayed', 'registering', 'preparing', 'provisioning', 'deprovisioning', 'deleting'],
  provisioning: ['provisioned'],
  provisioned: ['delayed', 'registering', 'provisioning', 'deprovisioning'],
  deprovisioning: ['preparing', 'available', 'deleting'],
  deleting: ['enrolled'],
};

/** The status after `event`, or why the event cannot happen in the current state. */
export function transition(current: HostStatus, event: HostEvent): TransitionResult {
  if (event.type === 'fail') return { ok: true, status: { state: 'error', error: event.error } };
  const target = event.state;
  if (current.state === target) return { ok: true, status: { state: target } };
  // Any operation may be retried from an error: the provisioner reads Ironic's state first.
  if (current.state === 'error' || NEXT_STATES[current.state].includes(target)) return { ok: true, status: { state: target } };
  return { ok: false, reason: `a host cannot go from ${current.state} to ${target}` };
}

export const HOST_OPERATIONS = ['provision', 'deprovision', 'remove', 'power'] as const;
export type HostOperation = (typeof HOST_OPERATIONS)[number];

/** States in which a job is working on the host: no second operation may start. */
export const BUSY_STATES: readonly HostState[] = ['delayed', 'registering', 'inspecting', 'preparing', 'provisioning', 'deprovisioning', 'deleting'];

/**
 * Whether an operation may start on a host in this state (the HTTP layer answers 409 otherwise).
 * Operations on a host that is already where they lead are allowed: the job finds it done.
 */
export function operationAllowed(state: HostState, operation: HostOperation): { ok: true } | { ok: false; reason: string } {
  if (BUSY_STATES.includes(state)) return { ok: false, reason: `the host is ${state}; wait until that finishes or cancel its job` };
  if (operation === 'power' && state === 'enrolled') return { ok: false, reason: 'the host is not registered with Ironic yet; provision it first' };
  return { ok: true };
}

/** Where an operation leaves a host when it succeeds. */
export const OPERATION_TARGETS: Readonly<Record<Exclude<HostOperation, 'power'>, HealthyHostState>> = {
  provision: 'provisioned',
  deprovision: 'available',
  remove: 'enrolled',
};

/** The error type for a failure while the host was in `state` (used when a call itself fails). */
export function errorTypeForState(state: HostState): HostErrorType {
  switch (state) {
    case 'enrolled':
    case 'delayed':
    case 'registering':
      return 'registration error';
    case 'inspecting':
      return 'inspection error';
    case 'preparing':
    case 'available':
      return 'preparation error';
    case 'provisioning':
    case 'provisioned':
      return 'provisioning error';
    case 'deprovisioning':
    case 'deleting':
    case 'error':
      return 'deprovisioning error';
  }
}

export function isHostState(value: unknown): value is HostState {
  return typeof value === 'string' && (HOST_STATES as readonly string[]).includes(value);
}

export function isHostErrorType(value: unknown): value is HostErrorType {
  return typeof value === 'string' && (HOST_ERROR_TYPES as readonly string[]).includes(value);
}
