import type { CoreV1Event } from '@kubernetes/client-node';

/**
 * Event lookups for the assessments. Events enrich a state the object itself reports (the pull
 * error behind an ImagePullBackOff); on their own they are only trusted for states that have no
 * other trace (a provisioning failure, a failed mount), because old events linger for an hour.
 */

function timeOf(event: CoreV1Event): number {
  const stamp: unknown =
    event.lastTimestamp ?? event.series?.lastObservedTime ?? event.eventTime ?? event.metadata?.creationTimestamp;
  if (stamp instanceof Date) return stamp.getTime();
  if (typeof stamp === 'string') return Date.parse(stamp);
  return Number.NEGATIVE_INFINITY;
}

export interface EventQuery {
  kind: string;
  /** Exact object name, or a predicate (a Deployment's ReplicaSets are `<name>-<hash>`). */
  name: string | ((name: string) => boolean);
  reasons: readonly string[];
  type?: 'Warning' | 'Normal';
  /** Only events whose message contains this text. */
  messageIncludes?: string;
}

/** The newest event matching the query (list order breaks ties: later entries are newer). */
export function latestEvent(events: readonly CoreV1Event[], query: EventQuery): CoreV1Event | undefined {
  let best: CoreV1Event | undefined;
  let bestTime = Number.NEGATIVE_INFINITY;
  for (const event of events) {
    if (!matches(event, query)) continue;
    const time = timeOf(event);
    if (best === undefined || time >= bestTime) {
      best = event;
      bestTime = time;
    }
  }
  return best;
}

function matches(event: CoreV1Event, query: EventQuery): boolean {
  const target = event.involvedObject;
  if (target?.kind !== query.kind || target.name === undefined) return false;
  const nameMatches = typeof query.name === 'string' ? target.name === query.name : query.name(target.name);
  if (!nameMatches) return false;
  if (query.type !== undefined && event.type !== query.type) return false;
  if (!query.reasons.includes(event.reason ?? '')) return false;
  return query.messageIncludes === undefined || (event.message ?? '').includes(query.messageIncludes);
}
