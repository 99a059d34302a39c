/**
 * One host's power change: request it (under the batch's slot cap), follow it until the BMC has
 * finished, and check the host ended where it should (on after `on` and `reboot`, off after `off`).
 */
import type { BareMetalProvisioner, HostObservation, PowerAction, ProvisionerHost } from '../../domain/baremetal/provisioner.js';
import type { HostError } from '../../domain/baremetal/states.js';
import { pollStep, sleepUnlessAborted, type Clock, type PollOutcome } from './poll.js';
import type { SlotPool } from './slots.js';

export type PowerResult =
  | { name: string; outcome: 'done'; poweredOn: boolean }
  | { name: string; outcome: 'failed'; error: HostError };

export interface PowerRunContext {
  provisioner: BareMetalProvisioner;
  slots: SlotPool;
  clock: Clock;
  timeoutMs: number;
  maxConsecutiveFailures: number;
  pollMs: number;
  signal?: AbortSignal;
}

/** Looks taken after a change ended without reaching the wanted state, before calling it failed. */
const SETTLE_CHECKS = 3;

export async function runPower(host: ProvisionerHost, action: PowerAction, context: PowerRunContext): Promise<PowerResult> {
  const failed = (error: HostError): PowerResult => ({ name: host.name, outcome: 'failed', error });
  try {
    await context.slots.acquire(context.signal);
  } catch (error: unknown) {
    if (context.signal?.aborted) return failed({ type: 'cancelled', message: 'Cancelled before the power change was requested.' });
    throw error;
  }
  try {
    return await changePower(host, action, context);
  } finally {
    context.slots.release();
  }
}

async function changePower(host: ProvisionerHost, action: PowerAction, context: PowerRunContext): Promise<PowerResult> {
  const deadline = context.clock.now() + context.timeoutMs;
  const limits = { deadline, maxConsecutiveFailures: context.maxConsecutiveFailures, errorType: 'power management error' as const, ...(context.signal ? { signal: context.signal } : {}) };
  const requested = await pollStep(() => context.provisioner.setPower(host, action), limits, context.clock, async () => {});
  if (requested.kind !== 'done') return { name: host.name, outcome: 'failed', error: outcomeError(requested, action, 'requesting') };
  const wantOn = action !== 'off';
  for (let check = 1; ; check += 1) {
    let observation: HostObservation | undefined;
    const followed = await pollStep(
      async () => {
        observation = await context.provisioner.status(host);
        return observation.powerChanging ? { done: false, state: observation.state, retryAfterMs: context.pollMs } : { done: true, state: observation.state };
      },
      limits,
      context.clock,
      async () => {},
    );
    if (followed.kind !== 'done') return { name: host.name, outcome: 'failed', error: outcomeError(followed, action, 'waiting for') };
    if (!observation) throw new Error('unreachable: a finished poll has read the status');
    if (observation.poweredOn === wantOn) return { name: host.name, outcome: 'done', poweredOn: wantOn };
    const lastError = observation.detail?.lastError;
    if (lastError !== undefined || check >= SETTLE_CHECKS) {
      const now = observation.poweredOn === undefined ? 'unknown' : observation.poweredOn ? 'on' : 'off';
      return { name: host.name, outcome: 'failed', error: { type: 'power management error', message: lastError ?? `The power is ${now} after "${action}"; expected ${wantOn ? 'on' : 'off'}.` } };
    }
    if (!(await sleepUnlessAborted(context.pollMs, context.signal, context.clock))) {
      return { name: host.name, outcome: 'failed', error: outcomeError({ kind: 'cancelled' }, action, 'waiting for') };
    }
  }
}

function outcomeError(outcome: Exclude<PollOutcome, { kind: 'done' }>, action: PowerAction, doing: string): HostError {
  switch (outcome.kind) {
    case 'failed':
      return outcome.error;
    case 'timeout':
      return { type: 'timeout', message: `Timed out ${doing} power ${action}.` };
    case 'cancelled':
      return { type: 'cancelled', message: `Cancelled while ${doing} power ${action}; a change already sent to the BMC may still happen.` };
  }
}
