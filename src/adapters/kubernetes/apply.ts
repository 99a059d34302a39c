import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { KubernetesApplyError, KubernetesRequestError } from './errors.js';
import { RetriesExhausted, withRetry, type CallFailure, type RetryPolicy } from './retry.js';
import type { Transport } from './transport.js';
import { mapBounded } from '../map-bounded.js';

export const FIELD_MANAGER = 'slipway';

export interface ApplyOptions {
  /** Server-side apply field manager; `slipway` for everything Slipway owns. */
  fieldManager: string;
  /** Objects of one wave applied at the same time. */
  concurrency: number;
  /** Called once per object, as soon as the API server accepted it. */
  onApplied?: (object: KubernetesObject, result: AppliedObject) => void;
  signal?: AbortSignal;
  /** Server-side dry run (`dryRun=All`): validated and admitted, nothing stored; `object` holds what would be. */
  dryRun?: boolean;
}

export interface AppliedObject {
  kind: string;
  name: string;
  namespace?: string;
  resourceVersion?: string;
  /** The field managers of the object after the apply (from `metadata.managedFields`). */
  managers: string[];
  /** Requests it took, retries included (discovery not counted). */
  attempts: number;
  /** Dry runs only: the object as the API server would store it. */
  object?: KubernetesObject;
}

export interface ApplyResult {
  /** How many objects were applied. */
  applied: number;
  objects: AppliedObject[];
  waves: number;
  /** HTTP requests this client sent during the call (discovery and retries included). */
  requests: number;
  /** Attempts beyond the first, over all objects. */
  retries: number;
}

/**
 * Requests of a wave that start in one turn of the event loop. Started all at once, fifty
 * requests are all prepared (serialised, framed, encrypted) before the first goes on the wire, so
 * the API server sees none of them until the last is ready; a few per turn put the first on the
 * wire at once, and the server works on them while the rest are prepared.
 */
const REQUESTS_PER_TURN = 8;

/** Resolves the first `perTurn` calls at once, the next `perTurn` one turn of the event loop later, and so on. */
export function pacer(perTurn: number): () => Promise<void> {
  let turn: Promise<void> = Promise.resolve();
  let calls = 0;
  return () => {
    if (calls > 0 && calls % perTurn === 0) turn = turn.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    calls += 1;
    return turn;
  };
}

/** `Deployment/classifier`: how messages name an object. */
export function describeObject(object: KubernetesObject): string {
  return `${object.kind ?? 'Object'}/${object.metadata?.name ?? '(unnamed)'}`;
}

/**
 * Applies wave after wave (namespace, then volumes, then services, then deployments: whatever
 * the caller ordered); a wave starts only once every object of the previous one was accepted.
 * The first failure stops new work, lets in-flight requests finish, and is thrown.
 */
export async function applyWaves(
  transport: Transport,
  policy: RetryPolicy,
  waves: readonly (readonly KubernetesObject[])[],
  options: ApplyOptions,
): Promise<ApplyResult> {
  const startRequests = transport.requestCount();
  const objects: AppliedObject[] = [];
  // Every wave's discovery up front and at once, instead of one round trip before each wave.
  await transport.objects.discover(waves.flat().map((object) => ({ apiVersion: object.apiVersion ?? 'v1', kind: object.kind ?? '' }))).catch(() => undefined);
  for (const wave of waves) {
    const paced = pacer(REQUESTS_PER_TURN);
    const results = await mapBounded(wave, Math.max(1, options.concurrency), async (object) => {
      await paced();
      const result = await applyObject(transport, policy, object, options);
      options.onApplied?.(object, result);
      return result;
    });
    objects.push(...results);
  }
  return {
    applied: objects.length,
    objects,
    waves: waves.length,
    requests: transport.requestCount() - startRequests,
    retries: objects.reduce((sum, o) => sum + o.attempts - 1, 0),
  };
}

async function applyObject(
  transport: Transport,
  policy: RetryPolicy,
  object: KubernetesObject,
  options: ApplyOptions,
): Promise<AppliedObject> {
  // The client fills in defaults (namespace, apiVersion) on the object it is given: give it a copy.
  const patch = (): Promise<KubernetesObject> =>
    transport.objects.patch(
      structuredClone(object),
      undefined,
      options.dryRun ? 'All' : undefined,
      options.fieldManager,
      true,
      PatchStrategy.ServerSideApply,
    );
  try {
    const { value, attempts } = await withRetry(patch, policy, options.signal);
    return {
      kind: object.kind ?? '',
      name: object.metadata?.name ?? '',
      ...(object.metadata?.namespace ? { namespace: object.metadata.namespace } : {}),
      ...(value.metadata?.resourceVersion ? { resourceVersion: value.metadata.resourceVersion } : {}),
      managers: [...new Set((value.metadata?.managedFields ?? []).map((entry) => entry.manager ?? ''))],
      attempts,
      ...(options.dryRun ? { object: value } : {}),
    };
  } catch (error: unknown) {
    if (!(error instanceof RetriesExhausted)) throw error;
    throw applyFailure(transport.system, describeObject(object), error.failure, error.attempts);
  }
}

function applyFailure(system: string, object: string, failure: CallFailure, attempts: number): Error {
  if (failure.kind === 'client') return new KubernetesApplyError(system, object, undefined, failure.message);
  if (failure.kind === 'http' && !failure.transient) {
    return new KubernetesApplyError(system, object, failure.status, failure.message);
  }
  const what = failure.kind === 'http' ? `HTTP ${failure.status}: ${failure.message}` : failure.message;
  return new KubernetesRequestError(system, `applying ${object} failed after ${attempts} attempt(s): ${what}`, {
    ...(failure.kind === 'http' ? { httpStatus: failure.status } : {}),
    transient: failure.transient,
    timedOut: failure.kind === 'network' && failure.timedOut,
  });
}
