/**
 * Writes core/v1 Event objects for the simulated controllers of the fake Kubernetes API server
 * (a test double), the way kubelet, the scheduler and the controllers do: one Event per
 * (object, reason, message), its `count` and `lastTimestamp` bumped when it happens again —
 * at most once a second, so a tick loop does not flood watchers.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { ObjectStore } from './store.js';
import { asNumber, asString, nowIso, readPath, type KubeObject, type ResourceType } from './types.js';

export type EventType = 'Normal' | 'Warning';

export interface EventSpec {
  reason: string;
  message: string;
  type: EventType;
  component: string;
  /** e.g. `spec.containers{model}` for container events. */
  fieldPath?: string;
}

const REPEAT_INTERVAL_MS = 1000;

export class EventRecorder {
  constructor(private readonly store: ObjectStore, private readonly events: ResourceType, private readonly host: () => string) {}

  record(about: KubeObject, spec: EventSpec): void {
    const namespace = about.metadata.namespace ?? 'default';
    const existing = this.store
      .peek(this.events, namespace)
      .find((event) =>
        readPath(event, 'involvedObject.uid') === about.metadata.uid &&
        event.reason === spec.reason &&
        event.message === spec.message,
      );
    const now = nowIso();
    if (existing) {
      const last = Date.parse(asString(existing.lastTimestamp) ?? '');
      if (Number.isFinite(last) && Date.now() - last < REPEAT_INTERVAL_MS) return;
      this.store.write(this.events, { ...existing, count: (asNumber(existing.count) ?? 1) + 1, lastTimestamp: now });
      return;
    }
    this.store.write(this.events, this.newEvent(about, namespace, spec, now));
  }

  private newEvent(about: KubeObject, namespace: string, spec: EventSpec, now: string): KubeObject {
    const name = `${about.metadata.name ?? 'unknown'}.${randomBytes(8).toString('hex')}`;
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace, uid: randomUUID(), creationTimestamp: now },
      involvedObject: {
        apiVersion: about.apiVersion,
        kind: about.kind,
        name: about.metadata.name,
        namespace: about.metadata.namespace,
        uid: about.metadata.uid,
        resourceVersion: about.metadata.resourceVersion,
        ...(spec.fieldPath ? { fieldPath: spec.fieldPath } : {}),
      },
      reason: spec.reason,
      message: spec.message,
      type: spec.type,
      source: { component: spec.component, ...(spec.component === 'kubelet' ? { host: this.host() } : {}) },
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      eventTime: null,
      reportingComponent: spec.component,
      reportingInstance: spec.component === 'kubelet' ? this.host() : '',
    };
  }
}
