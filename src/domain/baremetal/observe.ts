/**
 * Does what the provisioner reports of a host's node match what Slipway recorded? Pure. A
 * difference (the node deprovisioned, deleted, put in maintenance or failed behind Slipway's back,
 * or a power change nobody asked Slipway for) is reported as such — the recorded state is never
 * rewritten from it; the next job starts from what Ironic says anyway.
 */
import type { HostObservation } from './provisioner.js';
import type { HostErrorType, HostState } from './states.js';

export interface RecordedHost {
  state: HostState;
  errorType: HostErrorType | null;
  poweredOn: boolean | null;
}

export interface NodeDifference {
  /** The host state the node stands for now (`enrolled`: there is no node). */
  state: HostState;
  reason: string;
  provisionState: string | null;
  poweredOn: boolean | null;
  maintenance: boolean;
  lastError: string | null;
}

/** States a host passes through only while a job works on it: nothing to compare then. */
const WORKING: ReadonlySet<HostState> = new Set(['delayed', 'registering', 'inspecting', 'preparing', 'provisioning', 'deprovisioning', 'deleting']);

export function differenceFromNode(host: RecordedHost, seen: HostObservation): NodeDifference | null {
  const base = {
    provisionState: seen.detail?.provisionState ?? null,
    poweredOn: seen.poweredOn ?? null,
    maintenance: seen.detail?.maintenance === true,
    lastError: seen.detail?.lastError ?? null,
  };
  if (seen.problem?.kind === 'conflict') return { ...base, state: 'error', reason: seen.problem.message };
  if (!seen.registered) {
    if (host.state === 'enrolled' || (host.state === 'error' && host.errorType === 'registration error')) return null;
    return { ...base, state: 'enrolled', reason: seen.problem?.message ?? `Ironic has no node for this host, which Slipway recorded as ${host.state}` };
  }
  const reasons: string[] = [];
  if (base.maintenance) reasons.push('Ironic has the node in maintenance');
  if (seen.state !== host.state && !(WORKING.has(seen.state) && WORKING.has(host.state))) {
    const said = base.lastError !== null && seen.state === 'error' ? `: ${base.lastError}` : '';
    reasons.push(`Ironic reports the node "${base.provisionState ?? 'unknown'}" (${seen.state}${said}) while Slipway recorded ${host.state}`);
  }
  if (host.poweredOn !== null && seen.poweredOn !== undefined && seen.poweredOn !== host.poweredOn && !seen.powerChanging) {
    reasons.push(`the server is powered ${seen.poweredOn ? 'on' : 'off'}, Slipway recorded it ${host.poweredOn ? 'on' : 'off'}`);
  }
  return reasons.length === 0 ? null : { ...base, state: seen.state, reason: reasons.join('; ') };
}
