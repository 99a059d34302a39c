import type { KubernetesObject } from '@kubernetes/client-node';
import { requestFailure } from './cluster-client.js';
import { RetriesExhausted, withRetry, type RetryPolicy } from './retry.js';
import type { Transport } from './transport.js';

/** Which object to read: any kind the cluster serves (built-in or custom). */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  /** Omitted for cluster-scoped kinds. */
  namespace?: string;
  name: string;
}

/**
 * Reads one object of any kind (a Job's status, a Secret, a Cluster API Cluster); undefined when
 * it does not exist (404). Retried like every read; read-only and idempotent.
 */
export async function readObject(transport: Transport, policy: RetryPolicy, ref: ObjectRef): Promise<KubernetesObject | undefined> {
  const header = {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, ...(ref.namespace !== undefined ? { namespace: ref.namespace } : {}) },
  };
  try {
    return (await withRetry(() => transport.objects.read(header), policy)).value;
  } catch (error: unknown) {
    if (!(error instanceof RetriesExhausted)) throw error;
    if (error.failure.kind === 'http' && error.failure.status === 404) return undefined;
    throw requestFailure(transport.system, `reading ${ref.kind}/${ref.name}`, error.failure);
  }
}
