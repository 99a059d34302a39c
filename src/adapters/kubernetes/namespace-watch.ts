/**
 * Watches a namespace's Deployments, Pods, PersistentVolumeClaims and Services and says when something
 * changed, so readiness is re-assessed at once instead of on the next poll. Each kind has its own
 * watch stream (the client library's Watch): resumed from the last resourceVersion seen (bookmarks
 * included) when the server ends it, started afresh — the current objects come again as ADDED, a
 * relist — on `410 Gone`, and reconnected with a growing delay after an error. A kind whose watch
 * failed several times in a row without one event is `degraded`: the caller polls instead.
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';

export interface NamespaceWatch {
  /** Resolves at the next change seen since the last call (at once if one came meanwhile), or after `maxWaitMs`. */
  next(maxWaitMs: number, signal?: AbortSignal): Promise<'changed' | 'timeout'>;
  /** True while every kind's watch works; false once one has failed `FAILURES_BEFORE_POLLING` times in a row. */
  healthy(): boolean;
  stop(): void;
}

const FAILURES_BEFORE_POLLING = 3;
const RECONNECT_MS = [100, 250, 500, 1000, 2000];
/** The server ends each watch after this long (as kubectl asks); it is then resumed. */
const WATCH_TIMEOUT_SECONDS = 300;

export function watchNamespace(kubeconfig: KubeConfig, namespace: string): NamespaceWatch {
  const watch = new Watch(kubeconfig);
  const ns = encodeURIComponent(namespace);
  const paths = [`/apis/apps/v1/namespaces/${ns}/deployments`, `/api/v1/namespaces/${ns}/pods`, `/api/v1/namespaces/${ns}/persistentvolumeclaims`, `/api/v1/namespaces/${ns}/services`];
  let stopped = false;
  let dirty = false;
  let wake: (() => void) | undefined;
  const failures = new Map<string, number>(paths.map((p) => [p, 0]));
  const controllers = new Set<AbortController>();
  const timers = new Set<NodeJS.Timeout>();

  const changed = (): void => {
    dirty = true;
    wake?.();
  };

  const follow = (path: string, resourceVersion: string | undefined): void => {
    if (stopped) return;
    let version = resourceVersion;
    let gone = false;
    let sawEvent = false;
    const restart = (error: unknown): void => {
      if (stopped) return;
      if (typeof error === 'object' && error !== null && (error as { statusCode?: unknown }).statusCode === 410) gone = true;
      if (error !== null && error !== undefined && !gone) {
        failures.set(path, sawEvent ? 1 : (failures.get(path) ?? 0) + 1);
      } else if (sawEvent) {
        failures.set(path, 0);
      }
      const count = failures.get(path) ?? 0;
      const delay = gone || (error == null) ? 0 : (RECONNECT_MS[Math.min(count - 1, RECONNECT_MS.length - 1)] ?? 2000);
      const timer = setTimeout(() => {
        timers.delete(timer);
        follow(path, gone ? undefined : version);
      }, delay);
      timer.unref();
      timers.add(timer);
    };
    watch
      .watch(
        path,
        { allowWatchBookmarks: true, timeoutSeconds: WATCH_TIMEOUT_SECONDS, ...(version !== undefined ? { resourceVersion: version } : {}) },
        (type: string, object: { metadata?: { resourceVersion?: string }; code?: number }) => {
          if (type === 'ERROR') {
            // 410 Gone: the version is too old to resume from; start afresh (a relist).
            if (object?.code === 410) gone = true;
            return;
          }
          sawEvent = true;
          failures.set(path, 0);
          if (object?.metadata?.resourceVersion) version = object.metadata.resourceVersion;
          if (type !== 'BOOKMARK') changed();
        },
        restart,
      )
      .then((controller) => {
        if (stopped) controller.abort();
        else controllers.add(controller);
      })
      .catch(restart);
  };

  for (const path of paths) follow(path, undefined);

  return {
    async next(maxWaitMs, signal) {
      if (dirty) {
        dirty = false;
        return 'changed';
      }
      return new Promise((resolve) => {
        const finish = (result: 'changed' | 'timeout') => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          wake = undefined;
          if (result === 'changed') dirty = false;
          resolve(result);
        };
        const onAbort = () => finish('timeout');
        const timer = setTimeout(() => finish('timeout'), maxWaitMs);
        signal?.addEventListener('abort', onAbort, { once: true });
        wake = () => finish('changed');
      });
    },
    healthy: () => [...failures.values()].every((n) => n < FAILURES_BEFORE_POLLING),
    stop() {
      stopped = true;
      for (const controller of controllers) controller.abort();
      for (const timer of timers) clearTimeout(timer);
      controllers.clear();
      wake?.();
    },
  };
}
