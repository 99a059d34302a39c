/**
 * Provisions, deprovisions or powers many bare-metal hosts at once, the way ICN's launch did and
 * Metal3 does: every host in parallel under a cap (default 20; the rest wait as `delayed`), each
 * driven step by step through the BareMetalProvisioner, each with its own deadline (default 60
 * min from when it gets its slot). One host's failure never stops its siblings. Cancelling the
 * signal marks the unfinished hosts `cancelled` and asks Ironic to abort where it can.
 *
 * The engine keeps nothing that matters in memory: states go out through `onHostChange` (the job
 * stores them), and every provisioner step is idempotent, so a re-run job picks up where Ironic is.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { BmcCredentials, ConfigDrive } from '../../domain/baremetal/host.js';
import type { BareMetalProvisioner, PowerAction, ProvisionerHost } from '../../domain/baremetal/provisioner.js';
import type { HealthyHostState, HostStatus } from '../../domain/baremetal/states.js';
import { runHost, type HostResult, type HostRunContext, type Phase } from './host-run.js';
import type { Clock } from './poll.js';
import { runPower, type PowerResult } from './power.js';
import { Slots, type SlotPool } from './slots.js';

export type { HostResult } from './host-run.js';
export type { PowerResult } from './power.js';

export const DEFAULT_CONCURRENCY = 20;
export const DEFAULT_HOST_TIMEOUT_MS = 60 * 60_000;
export const DEFAULT_MAX_CONSECUTIVE_FAILURES = 5;

export interface EngineOptions {
  /** Hosts worked on at once; the others wait, reported as `delayed`. Default 20. */
  concurrency?: number;
  /** Where slots come from; default an in-process pool of `concurrency`. */
  slots?: SlotPool;
  /** Time each host gets from the moment it has a slot. Default 60 min. */
  timeoutMs?: number;
  /** Aborting it cancels the batch: unfinished hosts end `error` / `cancelled`. */
  signal?: AbortSignal;
  /**
   * Called (and awaited) on every change of a host's status. If it throws, the hosts carry on
   * and the first such error is rethrown once all have finished.
   */
  onHostChange?: (hostName: string, status: HostStatus) => void | Promise<void>;
  /** Provisioner calls that throw (Ironic unreachable) tolerated in a row per step. Default 5. */
  maxConsecutiveFailures?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  random?: () => number;
}

export type BatchOutcome = 'succeeded' | 'partially_failed' | 'failed';

export interface BatchResult {
  outcome: BatchOutcome;
  hosts: HostResult[];
}

export interface ProvisionRequest {
  host: ProvisionerHost;
  /** Decrypted inside the job, handed to the provisioner's register step only. */
  credentials: BmcCredentials;
  configDrive?: ConfigDrive;
}

/** register → available → provisioned, for every host. */
export function provisionHosts(provisioner: BareMetalProvisioner, requests: readonly ProvisionRequest[], options: EngineOptions = {}): Promise<BatchResult> {
  return runBatch(requests.map((request) => ({ host: request.host, phases: provisionPhases(provisioner, request), goal: 'provisioned' as const })), provisioner, options);
}

/**
 * register → available, for every host: enrolls a site's servers (BMC verified, cleaned) without
 * deploying anything yet.
 */
export function registerHosts(provisioner: BareMetalProvisioner, requests: readonly ProvisionRequest[], options: EngineOptions = {}): Promise<BatchResult> {
  return runBatch(requests.map((request) => ({ host: request.host, phases: provisionPhases(provisioner, request).slice(0, 2), goal: 'available' as const })), provisioner, options);
}

export interface DeprovisionOptions extends EngineOptions {
  /** Also delete the Ironic nodes afterwards (hosts end `enrolled`). Default false (`available`). */
  remove?: boolean;
}

/** Wipes every host back to available (Ironic `deleted` + cleaning), and optionally removes its node. */
export function deprovisionHosts(provisioner: BareMetalProvisioner, hosts: readonly ProvisionerHost[], options: DeprovisionOptions = {}): Promise<BatchResult> {
  return runBatch(
    hosts.map((host) => {
      const phases: Phase[] = [{ state: 'deprovisioning', errorType: 'deprovisioning error', step: (step) => provisioner.deprovision(host, step) }];
      if (options.remove) phases.push({ state: 'deleting', errorType: 'deprovisioning error', step: () => provisioner.remove(host) });
      return { host, phases, goal: options.remove ? ('enrolled' as const) : ('available' as const) };
    }),
    provisioner,
    options,
  );
}

export const DEFAULT_POWER_POLL_MS = 2_000;

export interface PowerOptions extends Omit<EngineOptions, 'onHostChange'> {
  /** How often to look at a power change in progress. Default 2 s. */
  pollMs?: number;
  /** Called (and awaited) once per host with its result. */
  onHostResult?: (result: PowerResult) => void | Promise<void>;
}

export interface PowerBatchResult {
  outcome: BatchOutcome;
  hosts: PowerResult[];
}

/** Powers every host on, off, or reboots it, and checks the BMC got there. */
export async function powerHosts(provisioner: BareMetalProvisioner, hosts: readonly ProvisionerHost[], action: PowerAction, options: PowerOptions = {}): Promise<PowerBatchResult> {
  const slots = options.slots ?? new Slots(options.concurrency ?? DEFAULT_CONCURRENCY);
  const clock = clockOf(options);
  const callbackErrors: unknown[] = [];
  const results = await Promise.all(
    hosts.map(async (host) => {
      const result = await runPower(host, action, {
        provisioner,
        slots,
        clock,
        timeoutMs: options.timeoutMs ?? DEFAULT_HOST_TIMEOUT_MS,
        maxConsecutiveFailures: options.maxConsecutiveFailures ?? DEFAULT_MAX_CONSECUTIVE_FAILURES,
        pollMs: options.pollMs ?? DEFAULT_POWER_POLL_MS,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      try {
        await options.onHostResult?.(result);
      } catch (error: unknown) {
        callbackErrors.push(error);
      }
      return result;
    }),
  );
  if (callbackErrors.length > 0) throw callbackErrors[0];
  return { outcome: batchOutcome(results.map((result) => result.outcome === 'done')), hosts: results };
}

function provisionPhases(provisioner: BareMetalProvisioner, request: ProvisionRequest): Phase[] {
  const { host, credentials } = request;
  return [
    { state: 'registering', errorType: 'registration error', step: (step) => provisioner.register(host, credentials, step) },
    { state: 'preparing', announce: false, errorType: 'preparation error', step: (step) => provisioner.makeAvailable(host, step) },
    { state: 'provisioning', announce: false, errorType: 'provisioning error', step: (step) => provisioner.provision(host, host.image, request.configDrive ?? {}, step) },
  ];
}

interface HostPlan {
  host: ProvisionerHost;
  phases: Phase[];
  goal: HealthyHostState;
}

async function runBatch(plans: readonly HostPlan[], provisioner: BareMetalProvisioner, options: EngineOptions): Promise<BatchResult> {
  const slots = options.slots ?? new Slots(options.concurrency ?? DEFAULT_CONCURRENCY);
  const clock = clockOf(options);
  const callbackErrors: unknown[] = [];
  const results = await Promise.all(
    plans.map((plan) => {
      const context: HostRunContext = {
        provisioner,
        slots,
        clock,
        timeoutMs: options.timeoutMs ?? DEFAULT_HOST_TIMEOUT_MS,
        maxConsecutiveFailures: options.maxConsecutiveFailures ?? DEFAULT_MAX_CONSECUTIVE_FAILURES,
        ...(options.signal ? { signal: options.signal } : {}),
        report: async (status) => {
          try {
            await options.onHostChange?.(plan.host.name, status);
          } catch (error: unknown) {
            callbackErrors.push(error);
          }
        },
      };
      return runHost(plan.host, plan.phases, plan.goal, context);
    }),
  );
  if (callbackErrors.length > 0) throw callbackErrors[0];
  return { outcome: batchOutcome(results.map((result) => result.status.state !== 'error')), hosts: results };
}

/** All hosts fine → succeeded; none → failed (an empty batch succeeded); some → partially_failed. */
export function batchOutcome(successes: readonly boolean[]): BatchOutcome {
  const succeeded = successes.filter(Boolean).length;
  if (succeeded === successes.length) return 'succeeded';
  return succeeded === 0 ? 'failed' : 'partially_failed';
}

function clockOf(options: EngineOptions | PowerOptions): Clock {
  return {
    sleep: options.sleep ?? ((ms, signal) => sleepFor(ms, undefined, signal ? { signal } : {})),
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
  };
}
