/**
 * Typed application errors. Each has a stable `code` and an HTTP status; `src/http/problem.ts`
 * maps them to application/problem+json in one place. A 4xx `detail` says exactly what to fix;
 * a 5xx `detail` never carries an internal message or a secret.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra members added to the problem document (for example `problems` or `field`). */
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(code: string, status: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.extra = extra;
  }
}

/** The request is malformed; `problems` lists every bad field when there is more than one. */
export class ValidationError extends AppError {
  constructor(message: string, problems: readonly string[] = []) {
    super('validation_failed', 400, message, problems.length > 0 ? { problems } : {});
  }
}

export class NotFoundError extends AppError {
  constructor(message: string, code = 'not_found') {
    super(code, 404, message);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, code = 'conflict', extra: Record<string, unknown> = {}) {
    super(code, 409, message, extra);
  }
}

/** Authentication failed; `reason` is a stable machine-readable cause (missing, expired, …). */
export class UnauthorizedError extends AppError {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super('unauthorized', 401, message, { reason });
    this.reason = reason;
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string) {
    super('forbidden', 403, message);
  }
}

/** A blueprint.json that cannot be deployed; `problems` lists every problem found, not just the first. */
export class BlueprintInvalidError extends AppError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('blueprint_invalid', 422, `The blueprint is invalid: ${problems.join('; ')}`, { problems });
    this.problems = problems;
  }
}

/**
 * An upstream system (CDS, Nexus, Kubernetes, Ironic, the orchestrator) failed or could not be
 * reached. `system` names it; the message says what it answered, without credentials.
 */
export class UpstreamError extends AppError {
  readonly system: string;
  constructor(system: string, message: string, status: 502 | 503 | 504 = 502, code = 'upstream_failed') {
    super(code, status, `${system}: ${message}`, { system });
    this.system = system;
  }
}

/** Configuration is wrong; raised at boot with one line per bad variable. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Narrow an unknown thrown value to a message that is safe to show to a developer log. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
