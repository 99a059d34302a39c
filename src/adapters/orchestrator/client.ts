import * as grpc from '@grpc/grpc-js';
import { UpstreamError } from '../../errors.js';
import { loadOrchestratorService, type OrchestratorMethod, type OrchestratorMethodName } from './proto.js';

/**
 * The Generic Parallel Orchestrator's gRPC API (graphene.md §7), behind a narrow interface.
 * The orchestrator reports outcome in `message` ("initialized", "running", "OSI … exception: …");
 * `success` stays false even when things went well, so callers read `message`.
 */
export interface OrchestrationStatus {
  success: boolean;
  code: number;
  message: string;
  activeThreads: number;
}

export interface OrchestrationConfig {
  blueprint: string;
  dockerinfo: string;
  protofiles: Record<string, string>;
  queuesize: number;
  iterations: number;
}

export interface OrchestrationEvent {
  run: string;
  name: string;
  component: string;
  detail: Record<string, string>;
}

export interface ObservationFilter {
  nameRegex?: string;
  componentRegex?: string;
}

export interface OrchestratorClient {
  /** Idempotent: reads the current status. */
  getStatus(label?: string): Promise<OrchestrationStatus>;
  /** Not idempotent: the orchestrator tears down any running orchestration and starts over. */
  initialize(config: OrchestrationConfig): Promise<OrchestrationStatus>;
  /** Not idempotent: starts the threads of an initialized orchestration. */
  run(label?: string): Promise<OrchestrationStatus>;
  /** `stop_orchestration`, present in newer orchestrator builds only. */
  stop(label?: string): Promise<OrchestrationStatus>;
  /** Streams events until the server ends the stream (resolves) or `signal` aborts (resolves). */
  observe(
    filter: ObservationFilter,
    onEvent: (event: OrchestrationEvent) => void,
    signal: AbortSignal,
  ): Promise<void>;
  close(): void;
}

/** A failed gRPC call to the orchestrator; `grpcCode` lets callers retry only what is transient. */
export class OrchestratorCallError extends UpstreamError {
  readonly grpcCode: grpc.status;
  readonly method: OrchestratorMethodName;
  constructor(method: OrchestratorMethodName, address: string, grpcCode: grpc.status, details: string) {
    super('Orchestrator', `${method} at ${address} failed: ${grpc.status[grpcCode] ?? grpcCode}: ${details}`, httpStatusFor(grpcCode));
    this.grpcCode = grpcCode;
    this.method = method;
  }
}

function httpStatusFor(code: grpc.status): 502 | 503 | 504 {
  if (code === grpc.status.UNAVAILABLE) return 503;
  if (code === grpc.status.DEADLINE_EXCEEDED) return 504;
  return 502;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Channel options. The orchestrator pod may still be starting its server when we first call it;
 * grpc-js would otherwise back off up to 120 s between reconnects, far longer than our own
 * bounded retry, so the reconnect backoff is kept short.
 */
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 2_000,
};

/**
 * A plain-text client for `host:port`. Calls fail fast (no waitForReady): an orchestrator that is
 * not listening yields UNAVAILABLE at once, and the caller's bounded retry decides how long to wait,
 * instead of every call silently hanging until its deadline.
 */
export function connectOrchestrator(address: string, options: { timeoutMs?: number } = {}): OrchestratorClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const service = loadOrchestratorService();
  const channel = new grpc.Client(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);

  const unary = (name: OrchestratorMethodName, request: object): Promise<OrchestrationStatus> =>
    new Promise((resolve, reject) => {
      const method = service[name];
      channel.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (error: grpc.ServiceError | null, response?: object) => {
          if (error !== null) reject(toCallError(name, address, error));
          else resolve(readStatus(response));
        },
      );
    });

  return {
    getStatus: (label = '') => unary('get_status', { label }),
    initialize: (config) => unary('initialize', config),
    run: (label = '') => unary('run', { label }),
    stop: (label = '') => unary('stop_orchestration', { label }),
    observe: (filter, onEvent, signal) => observeEvents(channel, service.observe, address, filter, onEvent, signal),
    close: () => channel.close(),
  };
}

function observeEvents(
  channel: grpc.Client,
  method: OrchestratorMethod,
  address: string,
  filter: ObservationFilter,
  onEvent: (event: OrchestrationEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const request = { name_regex: filter.nameRegex ?? '', component_regex: filter.componentRegex ?? '' };
    // No deadline: the stream lives as long as the caller watches; the signal ends it.
    const call = channel.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, request, new grpc.Metadata(), {});
    let settled = false;
    const settle = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = (): void => {
      settle();
      call.cancel();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    call.on('data', (message: unknown) => {
      try {
        onEvent(readEvent(message));
      } catch (error: unknown) {
        settle(error);
        call.cancel();
      }
    });
    call.on('end', () => settle());
    call.on('error', (error: grpc.ServiceError) => {
      if (error.code === grpc.status.CANCELLED && (signal.aborted || settled)) settle();
      else settle(toCallError('observe', address, error));
    });
  });
}

function toCallError(method: OrchestratorMethodName, address: string, error: grpc.ServiceError): OrchestratorCallError {
  return new OrchestratorCallError(method, address, error.code, error.details || error.message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function readStatus(value: unknown): OrchestrationStatus {
  const status = isRecord(value) ? value : {};
  return {
    success: status['success'] === true,
    code: typeof status['code'] === 'number' ? status['code'] : 0,
    message: typeof status['message'] === 'string' ? status['message'] : '',
    activeThreads: typeof status['active_threads'] === 'number' ? status['active_threads'] : 0,
  };
}

function readEvent(value: unknown): OrchestrationEvent {
  const event = isRecord(value) ? value : {};
  const text = (key: string): string => {
    const entry = event[key];
    return typeof entry === 'string' ? entry : '';
  };
  const detail: Record<string, string> = {};
  const rawDetail = event['detail'];
  if (isRecord(rawDetail)) {
    for (const [key, entry] of Object.entries(rawDetail)) {
      if (typeof entry === 'string') detail[key] = entry;
    }
  }
  return { run: text('run'), name: text('name'), component: text('component'), detail };
}
