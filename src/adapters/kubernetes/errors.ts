import { AppError, UpstreamError } from '../../errors.js';
import type { NodeHealth, SolutionHealth } from '../../domain/health/index.js';

/**
 * The cluster refused an object (a 4xx other than 409/429): admission, quota, validation, or
 * credentials without the rights. 422, not 5xx: the user can fix it (their cluster or kube config),
 * and the message says what the API server answered, naming the object.
 */
export class KubernetesApplyError extends AppError {
  readonly system: string;
  /** `Kind/name`, e.g. `Deployment/classifier`. */
  readonly object: string;
  /** The API server's HTTP status; undefined when the client refused before sending (unknown kind). */
  readonly httpStatus: number | undefined;

  constructor(system: string, object: string, httpStatus: number | undefined, serverMessage: string) {
    const status = httpStatus === undefined ? '' : ` (HTTP ${httpStatus})`;
    super('kubernetes_apply_failed', 422, `${system} rejected ${object}${status}: ${serverMessage}`, {
      system,
      object,
      ...(httpStatus === undefined ? {} : { kubernetesStatus: httpStatus }),
    });
    this.system = system;
    this.object = object;
    this.httpStatus = httpStatus;
  }
}

/**
 * A request to the API server failed: unreachable, timed out, TLS refused, 5xx or 429 after every
 * retry, or a 4xx on a read. `transient` says whether asking again later could help.
 */
export class KubernetesRequestError extends UpstreamError {
  readonly httpStatus: number | undefined;
  readonly transient: boolean;

  constructor(system: string, message: string, details: { httpStatus?: number; transient: boolean; timedOut?: boolean }) {
    super(system, message, details.timedOut ? 504 : 502, 'kubernetes_request_failed');
    this.httpStatus = details.httpStatus;
    this.transient = details.transient;
  }
}

/**
 * The applied solution did not become ready: the deadline passed, or an object failed in a way
 * waiting cannot fix (`terminal`). 422 like other problems of the user's solution or cluster, so
 * the per-object reasons reach the user; `nodes` lists every object that is not ready.
 */
export class DeployNotReadyError extends AppError {
  readonly terminal: boolean;
  readonly nodes: readonly NodeHealth[];

  constructor(health: SolutionHealth | undefined, details: { timeoutMs: number; lastError?: string }) {
    const nodes = (health?.nodes ?? []).filter((node) => node.status !== 'ready');
    const terminal = health?.terminal ?? false;
    const lines = nodes.map((node) => `${node.kind}/${node.name}: ${node.reason ?? node.status}`);
    if (details.lastError !== undefined) lines.push(`last read of the cluster failed: ${details.lastError}`);
    const head = terminal
      ? 'The solution cannot become ready'
      : `The solution did not become ready within ${Math.round(details.timeoutMs / 1000)} s`;
    super('deploy_not_ready', 422, `${head}: ${lines.join('; ') || 'no state could be read'}`, {
      terminal,
      nodes: nodes.map((node) => ({ ...node })),
    });
    this.terminal = terminal;
    this.nodes = nodes;
  }
}
