/**
 * One host through a sequence of provisioner steps (phases): wait for a slot (reported as
 * `delayed`), run each phase with pollStep, report every state change, and end in the target
 * state or in `error` with a type — `timeout` when the host's time runs out, `cancelled` when the
 * job is cancelled (the provisioner is asked to abort what Ironic can abort).
 */
import type { BareMetalProvisioner, Progress, StepOptions, ProvisionerHost } from '../../domain/baremetal/provisioner.js';
import { transition, type HealthyHostState, type HostError, type HostErrorType, type HostStatus } from '../../domain/baremetal/states.js';
import { errorMessage } from '../../errors.js';
import { pollStep, type Clock } from './poll.js';
import type { SlotPool } from './slots.js';

export interface Phase {
  /** The state reported when this phase starts (unless `announce` is false). */
  state: HealthyHostState;
  /**
   * False for phases whose start says nothing new: the previous step's answer already placed the
   * host, and announcing could move a host that is already further back (provisioned → preparing).
   */
  announce?: boolean;
  errorType: HostErrorType;
  step: (options: StepOptions) => Promise<Progress>;
}

export interface HostRunContext {
  provisioner: BareMetalProvisioner;
  slots: SlotPool;
  clock: Clock;
  timeoutMs: number;
  maxConsecutiveFailures: number;
  signal?: AbortSignal;
  /** Called on every change of the host's status; awaited. */
  report: (status: HostStatus) => Promise<void>;
}

export interface HostResult {
  name: string;
  status: HostStatus;
  /** Ironic's node UUID, when the host has a node. */
  nodeId?: string;
}

export async function runHost(host: ProvisionerHost, phases: readonly Phase[], goal: HealthyHostState, context: HostRunContext): Promise<HostResult> {
  const tracker = new StatusTracker(context.report);
  const waited = await takeSlot(context, tracker);
  if (!waited) return { name: host.name, status: await tracker.fail({ type: 'cancelled', message: 'Cancelled before the host got a provisioning slot; nothing was done.' }) };
  try {
    return await runPhases(host, phases, goal, context, tracker);
  } finally {
    context.slots.release();
  }
}

async function takeSlot(context: HostRunContext, tracker: StatusTracker): Promise<boolean> {
  if (context.signal?.aborted) return false;
  if (await context.slots.tryAcquire()) return true;
  await tracker.advance('delayed');
  try {
    await context.slots.acquire(context.signal);
    return true;
  } catch (error: unknown) {
    if (context.signal?.aborted) return false;
    throw error;
  }
}

async function runPhases(host: ProvisionerHost, phases: readonly Phase[], goal: HealthyHostState, context: HostRunContext, tracker: StatusTracker): Promise<HostResult> {
  const deadline = context.clock.now() + context.timeoutMs;
  let nodeId: string | undefined;
  let finalState: HealthyHostState = goal;
  const result = (status: HostStatus): HostResult => ({ name: host.name, status, ...(nodeId ? { nodeId } : {}) });
  for (const phase of phases) {
    if (phase.announce !== false) await tracker.advance(phase.state);
    const limits = { deadline, maxConsecutiveFailures: context.maxConsecutiveFailures, errorType: phase.errorType, ...(context.signal ? { signal: context.signal } : {}) };
    const outcome = await pollStep(phase.step, limits, context.clock, async (progress) => {
      if (progress.nodeId) nodeId = progress.nodeId;
      if (!progress.error && progress.state !== 'error') await tracker.advance(progress.state);
    });
    switch (outcome.kind) {
      case 'done':
        if (outcome.progress.state !== 'error') finalState = outcome.progress.state;
        continue;
      case 'failed':
        return result(await tracker.fail(outcome.error));
      case 'timeout': {
        const aborted = await tryAbort(context.provisioner, host);
        const minutes = Math.round(context.timeoutMs / 60_000);
        const limit = minutes >= 1 ? `${minutes} min` : `${context.timeoutMs} ms`;
        return result(await tracker.fail({ type: 'timeout', message: `Did not become ${goal} within ${limit} (last state: ${tracker.lastHealthyState}). ${aborted}` }));
      }
      case 'cancelled': {
        const aborted = await tryAbort(context.provisioner, host);
        return result(await tracker.fail({ type: 'cancelled', message: `Cancelled while ${tracker.lastHealthyState}. ${aborted}` }));
      }
    }
  }
  // Every step said done: the host is where the last one left it (normally the goal; further on
  // when it already was, as a registration of a deployed host), whatever the polls showed.
  await tracker.settle(finalState);
  return result(tracker.status);
}

/** Best effort: the host is failed either way; the sentence says what became of Ironic's work. */
async function tryAbort(provisioner: BareMetalProvisioner, host: ProvisionerHost): Promise<string> {
  try {
    const progress = await provisioner.abort(host);
    if (progress.error) return `Aborting failed: ${progress.error.message}`;
    return 'Ironic was asked to abort: cleaning and inspection stop there; a deploy already under way runs to its end in Ironic.';
  } catch (error: unknown) {
    return `Aborting failed: ${errorMessage(error)}`;
  }
}

/** The host's status as the engine reports it; moves the pure state machine allows, skips others. */
class StatusTracker {
  status: HostStatus = { state: 'enrolled' };
  lastHealthyState: HealthyHostState = 'enrolled';
  private reported = false;

  constructor(private readonly report: (status: HostStatus) => Promise<void>) {}

  async advance(state: HealthyHostState): Promise<void> {
    // The first report has no known predecessor (the engine does not read the stored state).
    const next = this.reported ? transition(this.status, { type: 'advance', state }) : { ok: true as const, status: { state } };
    if (!next.ok || (this.reported && next.status.state === this.status.state)) return;
    await this.set(next.status);
    this.lastHealthyState = state;
  }

  /** Sets the final state without consulting the state machine (the provisioner said so). */
  async settle(state: HealthyHostState): Promise<void> {
    if (this.status.state === state) return;
    await this.set({ state });
    this.lastHealthyState = state;
  }

  async fail(error: HostError): Promise<HostStatus> {
    await this.set({ state: 'error', error });
    return this.status;
  }

  private async set(status: HostStatus): Promise<void> {
    this.status = status;
    this.reported = true;
    await this.report(status);
  }
}
