import * as grpc from '@grpc/grpc-js';
import { AppError } from '../../errors.js';
import { OrchestratorCallError, type OrchestrationStatus, type OrchestratorClient } from './client.js';

/** The status messages the orchestrator answers with (generic-parallel-orchestrator 1.4). */
export const ORCHESTRATOR_STATUS = {
  notInitialized: 'not initialized',
  initializing: 'initializing...',
  initialized: 'initialized',
  running: 'running',
} as const;

export type StartStep = 'get_status' | 'initialize' | 'run';

export interface StartInput {
  /** blueprint.json text, shared folders already removed. */
  blueprint: string;
  /** dockerinfo.json text. */
  dockerinfo: string;
  /** Proto texts keyed `<container_name>.proto`. */
  protofiles: Record<string, string>;
}

export interface StartResult {
  /** started: initialized and ran; already_running: nothing called; run_again: found initialized, ran it. */
  action: 'started' | 'already_running' | 'run_again';
  statuses: OrchestrationStatus[];
}

export interface StartOrchestrationOptions {
  /** Retry of `get_status` while the orchestrator is UNAVAILABLE (its server may still be starting). */
  unavailableRetry?: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  /** How long to wait for an `initializing...` orchestrator (someone else's initialize) to finish. */
  initializingPoll?: { attempts: number; delayMs: number };
  /** Initialize even when the orchestrator is running or initialized (for example, the blueprint changed). */
  forceInitialize?: boolean;
  sleep?: (ms: number) => Promise<void>;
}

/** The orchestrator answered, and refused. The message keeps the orchestrator's own words verbatim. */
export class OrchestratorRejectedError extends AppError {
  readonly step: StartStep;
  readonly orchestratorMessage: string;
  readonly orchestratorCode: number;
  constructor(step: StartStep, status: OrchestrationStatus, why: string) {
    super('orchestrator_failed', 502, `Orchestrator ${step}: ${why}: ${status.message}`, {
      step,
      orchestratorCode: status.code,
    });
    this.step = step;
    this.orchestratorMessage = status.message;
    this.orchestratorCode = status.code;
  }
}

const DEFAULT_UNAVAILABLE_RETRY = { attempts: 6, baseDelayMs: 500, maxDelayMs: 5_000 };
const DEFAULT_INITIALIZING_POLL = { attempts: 10, delayMs: 1_000 };

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * CREO's start sequence: `get_status`; when the orchestrator is not initialized, `initialize` with
 * queuesize 0 and iterations 0 and require `initialized`; then `run` and require `running`.
 * A running orchestrator is left alone (a re-deploy calls nothing else). Beyond CREO: an
 * `initialized` one is run; an earlier failure (`OSI … exception`) or any other state is
 * initialized again — GPO's initialize is a clean start, so that is always safe.
 */
export async function startOrchestration(
  client: OrchestratorClient,
  input: StartInput,
  report: (event: { step: StartStep; status: OrchestrationStatus }) => void = () => {},
  options: StartOrchestrationOptions = {},
): Promise<StartResult> {
  const sleep = options.sleep ?? defaultSleep;
  const statuses: OrchestrationStatus[] = [];
  const record = (step: StartStep, status: OrchestrationStatus): OrchestrationStatus => {
    statuses.push(status);
    report({ step, status });
    return status;
  };
  const readStatus = async (): Promise<OrchestrationStatus> =>
    record('get_status', await retryWhileUnavailable(() => client.getStatus(), options.unavailableRetry ?? DEFAULT_UNAVAILABLE_RETRY, sleep));

  const status = await waitWhileInitializing(await readStatus(), readStatus, options.initializingPoll ?? DEFAULT_INITIALIZING_POLL, sleep);
  const force = options.forceInitialize === true;
  if (status.message === ORCHESTRATOR_STATUS.running && !force) return { action: 'already_running', statuses };

  let action: StartResult['action'] = 'run_again';
  if (status.message !== ORCHESTRATOR_STATUS.initialized || force) {
    const initialized = record('initialize', await client.initialize({ ...input, queuesize: 0, iterations: 0 }));
    if (initialized.message !== ORCHESTRATOR_STATUS.initialized) {
      throw new OrchestratorRejectedError('initialize', initialized, 'the pipeline was refused');
    }
    action = 'started';
  }
  const ran = record('run', await client.run());
  if (ran.message !== ORCHESTRATOR_STATUS.running) {
    throw new OrchestratorRejectedError('run', ran, 'the pipeline did not start');
  }
  return { action, statuses };
}

async function waitWhileInitializing(
  first: OrchestrationStatus,
  readStatus: () => Promise<OrchestrationStatus>,
  poll: { attempts: number; delayMs: number },
  sleep: (ms: number) => Promise<void>,
): Promise<OrchestrationStatus> {
  let status = first;
  for (let attempt = 0; status.message === ORCHESTRATOR_STATUS.initializing && attempt < poll.attempts; attempt++) {
    await sleep(poll.delayMs);
    status = await readStatus();
  }
  if (status.message === ORCHESTRATOR_STATUS.initializing) {
    throw new OrchestratorRejectedError('get_status', status, `still initializing after ${poll.attempts} checks`);
  }
  return status;
}

/** Bounded retry with exponential backoff and jitter, for UNAVAILABLE only; anything else is final. */
export async function retryWhileUnavailable<T>(
  call: () => Promise<T>,
  retry: { attempts: number; baseDelayMs: number; maxDelayMs: number },
  sleep: (ms: number) => Promise<void> = defaultSleep,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error: unknown) {
      const transient = error instanceof OrchestratorCallError && error.grpcCode === grpc.status.UNAVAILABLE;
      if (!transient || attempt >= retry.attempts) throw error;
      const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
      await sleep(ceiling / 2 + Math.random() * (ceiling / 2));
    }
  }
}
