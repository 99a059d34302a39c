/**
 * Reading a bootstrap's progress from what the clusters report: the installer Job's status, its
 * log, and a Cluster API Cluster's phase and conditions. Pure: objects in, verdicts out.
 */

export type InstallerState =
  | { state: 'pending' }
  | { state: 'running' }
  | { state: 'succeeded' }
  | { state: 'failed'; reason: string; message: string };

interface Condition {
  type?: unknown;
  status?: unknown;
  reason?: unknown;
  message?: unknown;
}

function recordOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function conditionsOf(status: Record<string, unknown>): Condition[] {
  return Array.isArray(status.conditions) ? status.conditions.map(recordOf) : [];
}

function trueCondition(conditions: readonly Condition[], type: string): Condition | undefined {
  return conditions.find((c) => c.type === type && c.status === 'True');
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** A batch/v1 Job's outcome: `Complete` / `Failed` conditions first, counters otherwise. */
export function assessInstallerJob(job: unknown): InstallerState {
  const status = recordOf(recordOf(job).status);
  const conditions = conditionsOf(status);
  if (trueCondition(conditions, 'Complete')) return { state: 'succeeded' };
  const failed = trueCondition(conditions, 'Failed') ?? trueCondition(conditions, 'FailureTarget');
  if (failed) return { state: 'failed', reason: text(failed.reason) || 'Failed', message: text(failed.message) || 'the installer Job failed' };
  if (typeof status.active === 'number' && status.active > 0) return { state: 'running' };
  return { state: 'pending' };
}

/**
 * The lines of `current` (a log tail) not already seen in `previous` (the tail before): the
 * longest end of `previous` that starts `current` is skipped. A tail that moved on entirely is
 * all new.
 */
export function newLogLines(previous: readonly string[], current: readonly string[]): string[] {
  for (let overlap = Math.min(previous.length, current.length); overlap > 0; overlap--) {
    let same = true;
    for (let i = 0; i < overlap && same; i++) same = previous[previous.length - overlap + i] === current[i];
    if (same) return current.slice(overlap);
  }
  return [...current];
}

export function splitLogLines(textValue: string): string[] {
  const lines = textValue.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

const SECRET_PATTERNS: readonly [RegExp, string][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[private key redacted]'],
  [/((?:password|passwd|token|secret|client-key-data|client-certificate-data)["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, '$1[redacted]'],
  [/(Authorization:\s*(?:Bearer|Basic)\s+)\S+/gi, '$1[redacted]'],
];

/** Installer output may echo a token or key (an ansible `-vvv` run does): never into events. */
export function redactLogText(textValue: string): string {
  return SECRET_PATTERNS.reduce((result, [pattern, replacement]) => result.replace(pattern, replacement), textValue);
}

export interface InstallerLogDiagnosis {
  /** Hosts ansible could not reach (SSH). */
  unreachableHosts: string[];
  /** Hosts where a task failed. */
  failedHosts: string[];
}

/**
 * What ansible says went wrong: `fatal: [host]: UNREACHABLE!` / `FAILED!` lines and the
 * `PLAY RECAP` counters (`host : ok=3 … unreachable=1 failed=0`).
 */
export function diagnoseInstallerLog(log: string): InstallerLogDiagnosis {
  const unreachable = new Set<string>();
  const failed = new Set<string>();
  for (const match of log.matchAll(/fatal: \[([^\]]+)\]: (UNREACHABLE|FAILED)!/g)) {
    (match[2] === 'UNREACHABLE' ? unreachable : failed).add(match[1] ?? '');
  }
  for (const match of log.matchAll(/^(\S+)\s+:\s+ok=\d+.*?\bunreachable=(\d+)\s+failed=(\d+)/gm)) {
    if (Number(match[2]) > 0) unreachable.add(match[1] ?? '');
    if (Number(match[3]) > 0) failed.add(match[1] ?? '');
  }
  return { unreachableHosts: [...unreachable].sort(), failedHosts: [...failed].filter((h) => !unreachable.has(h)).sort() };
}

export type CapiClusterState =
  | { state: 'provisioning'; phase: string; waitingFor: string[] }
  | { state: 'ready'; phase: string }
  | { state: 'failed'; phase: string; message: string }
  | { state: 'deleting'; phase: string };

/**
 * A Cluster API Cluster is ready once its phase is `Provisioned` and `ControlPlaneReady` is
 * True; `Failed` (or a failureReason/failureMessage) is final; `Deleting` means someone removed it.
 */
export function assessCapiCluster(cluster: unknown): CapiClusterState {
  const status = recordOf(recordOf(cluster).status);
  const phase = text(status.phase) || 'Pending';
  const conditions = conditionsOf(status);
  const failureMessage = text(status.failureMessage) || text(status.failureReason);
  if (phase === 'Failed' || failureMessage !== '') {
    return { state: 'failed', phase, message: failureMessage || 'Cluster API reports the cluster as Failed' };
  }
  if (phase === 'Deleting') return { state: 'deleting', phase };
  const waitingFor: string[] = [];
  if (phase !== 'Provisioned') waitingFor.push(`phase ${phase} (waiting for Provisioned)`);
  // Phase Provisioned implies the infrastructure is ready; before that, say which part is missing.
  for (const type of phase === 'Provisioned' ? ['ControlPlaneReady'] : ['InfrastructureReady', 'ControlPlaneReady']) {
    if (!trueCondition(conditions, type)) {
      const condition = conditions.find((c) => c.type === type);
      const why = condition ? [text(condition.reason), text(condition.message)].filter((s) => s !== '').join(': ') : '';
      waitingFor.push(`${type}${why ? ` (${why})` : ''}`);
    }
  }
  if (phase === 'Provisioned' && trueCondition(conditions, 'ControlPlaneReady')) return { state: 'ready', phase };
  return { state: 'provisioning', phase, waitingFor };
}
