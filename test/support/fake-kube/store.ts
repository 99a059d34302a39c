/**
 * Object storage of the fake Kubernetes API server (a test double): one map of objects keyed by
 * group, plural, namespace and name; a single `resourceVersion` counter; a bounded history of
 * changes so that a watch can resume from a `resourceVersion`; and the last configuration each
 * field manager applied (server-side apply). Everything handed out is a copy.
 */
import { clone, type KubeObject, type ResourceType } from './types.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredChange {
  revision: number;
  type: WatchEventType;
  resource: ResourceType;
  object: KubeObject;
}

export type ChangeListener = (change: StoredChange) => void;

const HISTORY_LIMIT = 5000;

function resourceId(resource: ResourceType): string {
  return `${resource.group}/${resource.plural}`;
}

export class ObjectStore {
  private readonly objects = new Map<string, { resource: ResourceType; object: KubeObject }>();
  /** The same entries grouped by resource type, so a list does not walk every object stored. */
  private readonly byResource = new Map<string, Map<string, { resource: ResourceType; object: KubeObject }>>();
  private readonly appliedConfigs = new Map<string, Map<string, unknown>>();
  private readonly history: StoredChange[] = [];
  private readonly listeners = new Set<ChangeListener>();
  private revision = 0;

  private key(resource: ResourceType, namespace: string | undefined, name: string): string {
    return `${resourceId(resource)}/${resource.namespaced ? namespace ?? '' : ''}/${name}`;
  }

  currentRevision(): number {
    return this.revision;
  }

  get(resource: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const entry = this.objects.get(this.key(resource, namespace, name));
    return entry ? clone(entry.object) : undefined;
  }

  /** Like `get`, without a copy (see `peek`). */
  peekOne(resource: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(this.key(resource, namespace, name))?.object;
  }

  /** Objects of one resource type, in one namespace or all of them, sorted by namespace and name. */
  list(resource: ResourceType, namespace?: string): KubeObject[] {
    return this.peek(resource, namespace).map((object) => clone(object));
  }

  /**
   * Like `list`, without copies: the stored objects themselves, for the controllers' read-only
   * scans (copying every pod for every Deployment on every tick made the double quadratic).
   * Stored objects are replaced on write, never changed in place; callers must not mutate them.
   */
  peek(resource: ResourceType, namespace?: string): readonly KubeObject[] {
    const result: KubeObject[] = [];
    for (const entry of this.byResource.get(resourceId(resource))?.values() ?? []) {
      if (namespace !== undefined && resource.namespaced && entry.object.metadata.namespace !== namespace) continue;
      result.push(entry.object);
    }
    // Byte order of namespace/name, as etcd keys sort on a real server (and far cheaper than localeCompare).
    const sortKey = (object: KubeObject): string => `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
    return result
      .map((object) => ({ object, key: sortKey(object) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((entry) => entry.object);
  }

  /** Like `peek`, unsorted: for scans that do not care about order. */
  *scan(resource: ResourceType): Iterable<KubeObject> {
    for (const entry of this.byResource.get(resourceId(resource))?.values() ?? []) yield entry.object;
  }

  /** Every stored object with its resource type. */
  entries(): Array<{ resource: ResourceType; object: KubeObject }> {
    return [...this.objects.values()].map((entry) => ({ resource: entry.resource, object: clone(entry.object) }));
  }

  /** Stores the object with a new resourceVersion; returns the stored copy. */
  write(resource: ResourceType, object: KubeObject): KubeObject {
    const key = this.key(resource, object.metadata.namespace, object.metadata.name ?? '');
    const type: WatchEventType = this.objects.has(key) ? 'MODIFIED' : 'ADDED';
    this.revision += 1;
    const stored = clone(object);
    stored.metadata.resourceVersion = String(this.revision);
    const entry = { resource, object: stored };
    this.objects.set(key, entry);
    let group = this.byResource.get(resourceId(resource));
    if (!group) this.byResource.set(resourceId(resource), (group = new Map()));
    group.set(key, entry);
    // The history and watchers share the stored object: stored objects are replaced, never changed.
    this.emit({ revision: this.revision, type, resource, object: stored });
    return clone(stored);
  }

  remove(resource: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = this.key(resource, namespace, name);
    const entry = this.objects.get(key);
    if (!entry) return undefined;
    this.objects.delete(key);
    this.byResource.get(resourceId(resource))?.delete(key);
    this.appliedConfigs.delete(key);
    this.revision += 1;
    const removed = clone(entry.object);
    removed.metadata.resourceVersion = String(this.revision);
    this.emit({ revision: this.revision, type: 'DELETED', resource, object: clone(removed) });
    return removed;
  }

  /** What each field manager last applied to this object (server-side apply). */
  appliedBy(resource: ResourceType, namespace: string | undefined, name: string): Map<string, unknown> {
    const configs = this.appliedConfigs.get(this.key(resource, namespace, name));
    return new Map([...(configs ?? new Map<string, unknown>()).entries()].map(([manager, config]) => [manager, clone(config)]));
  }

  setAppliedBy(resource: ResourceType, namespace: string | undefined, name: string, configs: Map<string, unknown>): void {
    this.appliedConfigs.set(this.key(resource, namespace, name), configs);
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Changes after `revision`, or `expired` when the history no longer reaches back that far. */
  changesSince(revision: number): StoredChange[] | 'expired' {
    const oldest = this.history[0];
    if (oldest !== undefined && revision < oldest.revision - 1) return 'expired';
    return this.history.filter((change) => change.revision > revision);
  }

  private emit(change: StoredChange): void {
    this.history.push(change);
    if (this.history.length > HISTORY_LIMIT) this.history.shift();
    for (const listener of this.listeners) listener(change);
  }
}
