import type { ClusterClient } from '../../adapters/kubernetes/cluster-client.js';

export interface Warning {
  object: string;
  reason: string;
  message: string;
  at: string;
}

/** The namespace's most recent Warning events (failed pulls, back-offs, scheduling, provisioning). */
export async function recentWarnings(cluster: ClusterClient, namespace: string, limit = 10): Promise<Warning[]> {
  const state = await cluster.readState(namespace);
  return state.events
    .filter((event) => event.type === 'Warning')
    .map((event) => ({
      object: `${event.involvedObject.kind ?? ''}/${event.involvedObject.name ?? ''}`,
      reason: event.reason ?? '',
      message: event.message ?? '',
      at: String(event.lastTimestamp ?? event.eventTime ?? event.metadata.creationTimestamp ?? ''),
    }))
    .sort((a, b) => a.at.localeCompare(b.at))
    .slice(-limit);
}
