/**
 * Why a bootstrap failed, as a typed error: the job records `code`, `message` and the details
 * (the installer's log tail, unreachable hosts, …). 422 like other problems of the user's site
 * that the user can fix (a host, the request); the message says what to look at. Log tails are
 * redacted before they get here.
 */
import { AppError } from '../../errors.js';

export const BOOTSTRAP_FAILURE_REASONS = [
  'installer_failed',
  'hosts_unreachable',
  'installer_missing',
  'kubeconfig_missing',
  'kubeconfig_invalid',
  'cluster_failed',
  'cluster_deleted',
  'timeout',
] as const;
export type BootstrapFailureReason = (typeof BOOTSTRAP_FAILURE_REASONS)[number];

export class BootstrapFailedError extends AppError {
  readonly reason: BootstrapFailureReason;

  constructor(reason: BootstrapFailureReason, message: string, details: Record<string, unknown> = {}) {
    super(`bootstrap_${reason}`, 422, message, { reason, ...details });
    this.reason = reason;
  }
}
