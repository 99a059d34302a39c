/**
 * What both bootstrap engines share: the narrow cluster interface they use, the progress
 * reporter (a job context fits it), polling with a deadline, and reading the new cluster's kube
 * config from a Secret into a sanitised SafeKubeconfig.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ClusterClient } from '../../adapters/kubernetes/cluster-client.js';
import { KubernetesRequestError } from '../../adapters/kubernetes/errors.js';
import { BootstrapFailedError } from '../../domain/bootstrap/errors.js';
import { KubeconfigRejectedError, parseKubeconfig, type KubeconfigOptions, type SafeKubeconfig } from '../../domain/kubeconfig.js';

/** What an engine needs of the cluster it drives (bootstrap or management cluster). */
export type BootstrapCluster = Pick<ClusterClient, 'applyWaves' | 'readObject' | 'readLogs'>;

/** Progress as job steps and events; a JobContext is one. */
export interface BootstrapReporter {
  /** Aborted when the job is cancelled: waiting stops. */
  signal: AbortSignal;
  step<T>(name: string, fn: () => Promise<T>, detail?: (result: T) => string | undefined): Promise<T>;
  event(type: string, message: string, data?: unknown): Promise<void>;
}

export interface PollSettings {
  /** How long to wait for the installer or Cluster API before giving up. */
  timeoutMs: number;
  /** Between reads; capped at 2 s. */
  pollMs?: number;
}

export const MAX_POLL_MS = 2000;

export function pollInterval(settings: PollSettings): number {
  return Math.min(Math.max(settings.pollMs ?? MAX_POLL_MS, 10), MAX_POLL_MS);
}

/** Waits until the next poll; false when the deadline has passed. */
export async function waitForNextPoll(deadline: number, pollMs: number, signal: AbortSignal): Promise<boolean> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) return false;
  try {
    await sleep(Math.min(pollMs, remaining), undefined, { signal });
  } catch (error: unknown) {
    // The job's cancellation error (the abort reason), not the timer's AbortError.
    if (signal.aborted) throw signal.reason;
    throw error;
  }
  return true;
}

export type ReadOutcome = { kind: 'found'; object: KubernetesObject } | { kind: 'absent' } | { kind: 'unavailable'; message: string };

/** A read that may fail transiently (the next poll tries again); anything else is thrown. */
export async function readWhilePolling(cluster: BootstrapCluster, ref: Parameters<BootstrapCluster['readObject']>[0]): Promise<ReadOutcome> {
  try {
    const object = await cluster.readObject(ref);
    return object === undefined ? { kind: 'absent' } : { kind: 'found', object };
  } catch (error: unknown) {
    if (error instanceof KubernetesRequestError && error.transient) return { kind: 'unavailable', message: error.message };
    throw error;
  }
}

export interface KubeconfigSecretRef {
  namespace: string;
  name: string;
  key: string;
}

/** The kube config text of the Secret's key; undefined when the Secret or key is not there yet. */
export function kubeconfigTextOf(secret: KubernetesObject | undefined, key: string): string | undefined {
  const data = secret !== undefined && 'data' in secret ? secret.data : undefined;
  if (typeof data !== 'object' || data === null) return undefined;
  const encoded: unknown = (data as Record<string, unknown>)[key];
  return typeof encoded === 'string' ? Buffer.from(encoded, 'base64').toString('utf8') : undefined;
}

export function secretKeys(secret: KubernetesObject): string[] {
  const data = 'data' in secret ? secret.data : undefined;
  return typeof data === 'object' && data !== null ? Object.keys(data) : [];
}

/**
 * The new cluster's kube config, sanitised like any user's (only inline credentials, no exec, no
 * files). The problems name fields only, never values.
 */
export function parseNewClusterKubeconfig(text: string, where: KubeconfigSecretRef, options: KubeconfigOptions): SafeKubeconfig {
  try {
    return parseKubeconfig(text, options);
  } catch (error: unknown) {
    if (!(error instanceof KubeconfigRejectedError)) throw error;
    const problems = error.problems.map((p) => `${p.field}: ${p.message}`);
    throw new BootstrapFailedError(
      'kubeconfig_invalid',
      `The kube config in Secret ${where.namespace}/${where.name} (key ${where.key}) cannot be used: ${problems.join('; ')}`,
      { secret: `${where.namespace}/${where.name}`, problems },
    );
  }
}

/** `90 min`, `45 s`, `300 ms`: a timeout as people read it. */
export function duration(ms: number): string {
  if (ms >= 60_000) return `${Math.round(ms / 60_000)} min`;
  if (ms >= 1000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms)} ms`;
}
