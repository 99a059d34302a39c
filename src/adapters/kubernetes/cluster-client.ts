import type { KubernetesObject, V1Node } from '@kubernetes/client-node';
import type { SafeKubeconfig } from '../../domain/kubeconfig.js';
import type { ClusterState } from '../../domain/health/index.js';
import { applyWaves, type ApplyOptions, type ApplyResult } from './apply.js';
import { KubernetesRequestError } from './errors.js';
import { DEFAULT_RETRY_POLICY, RetriesExhausted, withRetry, type CallFailure, type RetryPolicy } from './retry.js';
import { createTransport, type Transport } from './transport.js';
import { readObject, type ObjectRef } from './read-object.js';
import { watchNamespace, type NamespaceWatch } from './namespace-watch.js';

export type { ApplyOptions, ApplyResult, AppliedObject } from './apply.js';
export type { ObjectRef } from './read-object.js';

/** One node's addresses (and whether it is Ready): the orchestrator is reached through a node port. */
export interface NodeAddresses {
  name: string;
  ready: boolean;
  externalIP?: string;
  internalIP?: string;
  hostname?: string;
}

/** Service name → port name (or number, for unnamed ports) → assigned node port. */
export type ServiceNodePorts = Map<string, Record<string, number>>;

export type NamespaceDeletion = 'deleting' | 'absent';

/**
 * What Slipway does with a user's cluster. Every call has a timeout and a bounded retry for
 * transient failures (409, 429, 5xx, timeouts, refused connections); errors name the cluster
 * (`Kubernetes API <host>`) and what it answered, never a credential.
 */
export interface ClusterClient {
  /** `Kubernetes API <host>`. */
  readonly system: string;
  /**
   * Server-side apply (force, one field manager), wave after wave, each wave's objects at most
   * `concurrency` at a time. Idempotent: applying the same objects again changes nothing.
   */
  applyWaves(waves: readonly (readonly KubernetesObject[])[], options: ApplyOptions): Promise<ApplyResult>;
  /**
   * Deployments, PVCs and Services matching `selector` (all when omitted) plus every Pod and Event
   * of the namespace: the input of the health assessment. Read-only, idempotent.
   */
  readState(namespace: string, selector?: string): Promise<ClusterState>;
  /** Every node's addresses, in the API's order. Read-only, idempotent. */
  listNodeAddresses(): Promise<NodeAddresses[]>;
  /** Node ports of the namespace's Services. Read-only, idempotent. */
  getServiceNodePorts(namespace: string, selector?: string): Promise<ServiceNodePorts>;
  /**
   * Deletes the Deployments, Services, PVCs, ConfigMaps and Secrets matching `selector`; returns
   * how many it deleted. Idempotent: already gone counts as done.
   */
  deleteByLabel(namespace: string, selector: string): Promise<number>;
  /** Starts deleting the namespace (Kubernetes finishes it in the background). Idempotent. */
  deleteNamespace(namespace: string): Promise<NamespaceDeletion>;
  /** Whether the namespace is there, being deleted, or gone. Read-only, idempotent. */
  namespacePhase(namespace: string): Promise<'active' | 'terminating' | 'absent'>;
  /** The last `tailLines` of the logs of each pod matching `podSelector`. Read-only, idempotent. */
  readLogs(namespace: string, podSelector: string, tailLines: number): Promise<PodLogs[]>;
  /** One object of any served kind; undefined when absent (404). Read-only, idempotent. */
  readObject(ref: ObjectRef): Promise<KubernetesObject | undefined>;
  /** The API server's version (`v1.34.4`). Read-only. */
  serverVersion(): Promise<string>;
  /**
   * SelfSubjectAccessReviews: may this kube config's user do each of these? In order, each with
   * the authorizer's reason when it says no. Read-only (a review is not stored).
   */
  reviewAccess(attributes: readonly AccessAttributes[]): Promise<AccessDecision[]>;
  /**
   * Objects of any served kind (namespaced or not), optionally by label; every page. Read-only,
   * idempotent. A kind the server does not serve is an error (404).
   */
  listObjects(ref: { apiVersion: string; kind: string; namespace?: string; labelSelector?: string }): Promise<KubernetesObject[]>;
  /**
   * Watches the namespace's Deployments, Pods, PersistentVolumeClaims and Services (namespace-watch.ts):
   * `next()` resolves at the next change. Stop it when done.
   */
  watchNamespace(namespace: string): NamespaceWatch;
  /** HTTP requests sent so far by this client (for the benchmark's round-trip count). */
  requestCount(): number;
  /**
   * Opens the connection to the API server now, so the first request does not wait for the TLS
   * handshake (a deploy does it while it fetches the solution). A failure is left for that request.
   */
  preconnect(): void;
  /** Closes idle keep-alive connections. */
  close(): void;
}

/** What a SelfSubjectAccessReview asks: a verb on a resource (in a namespace, or cluster-wide). */
export interface AccessAttributes {
  verb: string;
  /** '' for the core group. */
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
}

export interface AccessDecision {
  allowed: boolean;
  reason?: string;
}

export interface PodLogs {
  pod: string;
  container: string;
  text: string;
}

export interface ClusterClientOptions {
  /** Per HTTP request (default 30 s). */
  requestTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Connections to the API server at the same time (default 64). */
  maxSockets?: number;
}

export function createClusterClient(kubeconfig: SafeKubeconfig, options: ClusterClientOptions = {}): ClusterClient {
  const transport = createTransport(kubeconfig, {
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    maxSockets: options.maxSockets ?? 64,
  });
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const read = <T>(what: string, call: () => Promise<T>): Promise<T> => requestWithRetry(transport, policy, what, call);
  const { core, apps } = transport;

  return {
    system: transport.system,
    applyWaves: (waves, applyOptions) => applyWaves(transport, policy, waves, applyOptions),

    async readState(namespace, selector) {
      const labelSelector = selector;
      // Pods and Events are not selected by label: a pod template may not carry the selector's
      // labels and Events carry none; each Deployment picks its own pods by its selector.
      const [deployments, pods, pvcs, services, events] = await Promise.all([
        read('listing Deployments', () => apps.listNamespacedDeployment({ namespace, labelSelector })),
        read('listing Pods', () => core.listNamespacedPod({ namespace })),
        read('listing PersistentVolumeClaims', () => core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector })),
        read('listing Services', () => core.listNamespacedService({ namespace, labelSelector })),
        read('listing Events', () => core.listNamespacedEvent({ namespace })),
      ]);
      return {
        deployments: deployments.items,
        pods: pods.items,
        pvcs: pvcs.items,
        services: services.items,
        events: events.items,
      };
    },

    async listNodeAddresses() {
      const nodes = await read('listing Nodes', () => core.listNode());
      return nodes.items.map(nodeAddresses);
    },

    async getServiceNodePorts(namespace, selector) {
      const services = await read('listing Services', () =>
        core.listNamespacedService({ namespace, labelSelector: selector }),
      );
      const result: ServiceNodePorts = new Map();
      for (const service of services.items) {
        const ports: Record<string, number> = {};
        for (const port of service.spec?.ports ?? []) {
          if (port.nodePort) ports[port.name ?? String(port.port)] = port.nodePort;
        }
        result.set(service.metadata?.name ?? '', ports);
      }
      return result;
    },

    async deleteByLabel(namespace, selector) {
      const labelSelector = selector;
      const kinds: Array<{ kind: string; list: () => Promise<{ items: KubernetesObject[] }>; remove: (name: string) => Promise<unknown> }> = [
        { kind: 'Deployment', list: () => apps.listNamespacedDeployment({ namespace, labelSelector }), remove: (name) => apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy: 'Background' }) },
        { kind: 'Service', list: () => core.listNamespacedService({ namespace, labelSelector }), remove: (name) => core.deleteNamespacedService({ name, namespace }) },
        { kind: 'PersistentVolumeClaim', list: () => core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector }), remove: (name) => core.deleteNamespacedPersistentVolumeClaim({ name, namespace }) },
        { kind: 'ConfigMap', list: () => core.listNamespacedConfigMap({ namespace, labelSelector }), remove: (name) => core.deleteNamespacedConfigMap({ name, namespace }) },
        { kind: 'Secret', list: () => core.listNamespacedSecret({ namespace, labelSelector }), remove: (name) => core.deleteNamespacedSecret({ name, namespace }) },
      ];
      // Kinds are listed and deleted concurrently: their objects do not depend on each other.
      const counts = await Promise.all(
        kinds.map(async ({ kind, list, remove }) => {
          const { items } = await read(`listing ${kind}s`, list);
          // Already terminating (a PVC held by its protection finalizer) counts as done.
          const live = items.filter((i) => i.metadata?.deletionTimestamp == null);
          const results = await Promise.all(
            live.map((item) => {
              const name = item.metadata?.name ?? '';
              return deleteIfPresent(transport, policy, `deleting ${kind}/${name}`, () => remove(name));
            }),
          );
          return results.filter(Boolean).length;
        }),
      );
      return counts.reduce((sum, n) => sum + n, 0);
    },

    async deleteNamespace(namespace) {
      const found = await deleteIfPresent(transport, policy, `deleting Namespace/${namespace}`, () =>
        core.deleteNamespace({ name: namespace, propagationPolicy: 'Background' }),
      );
      return found ? 'deleting' : 'absent';
    },

    async namespacePhase(namespace) {
      try {
        const found = await withRetry(() => core.readNamespace({ name: namespace }), policy);
        return found.value.metadata?.deletionTimestamp == null ? 'active' : 'terminating';
      } catch (error: unknown) {
        if (error instanceof RetriesExhausted && error.failure.kind === 'http' && error.failure.status === 404) return 'absent';
        if (error instanceof RetriesExhausted) throw requestFailure(transport.system, `reading Namespace/${namespace}`, error.failure);
        throw error;
      }
    },

    async readLogs(namespace, podSelector, tailLines) {
      const pods = await read('listing Pods', () => core.listNamespacedPod({ namespace, labelSelector: podSelector }));
      const logs: PodLogs[] = [];
      for (const pod of pods.items) {
        const name = pod.metadata?.name ?? '';
        for (const container of pod.spec?.containers ?? []) {
          const text = await read(`reading the logs of Pod/${name}`, () =>
            core.readNamespacedPodLog({ name, namespace, container: container.name, tailLines }),
          );
          logs.push({ pod: name, container: container.name, text: String(text) });
        }
      }
      return logs;
    },

    readObject: (ref) => readObject(transport, policy, ref),
    watchNamespace: (namespace) => watchNamespace(transport.kubeConfig, namespace),

    async serverVersion() {
      const info = await read('reading the server version', () => transport.version.getCode());
      return info.gitVersion;
    },

    async reviewAccess(attributes) {
      return Promise.all(attributes.map(async (a) => {
        const review = await read(`reviewing access to ${a.verb} ${a.resource}`, () => transport.objects.create({
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb: a.verb, group: a.group, resource: a.resource, ...(a.subresource ? { subresource: a.subresource } : {}), ...(a.namespace ? { namespace: a.namespace } : {}) } },
        } as KubernetesObject)) as KubernetesObject & { status?: { allowed?: boolean; denied?: boolean; reason?: string } };
        const reason = review.status?.reason;
        return { allowed: review.status?.allowed === true, ...(reason ? { reason } : {}) };
      }));
    },

    async listObjects(ref) {
      const items: KubernetesObject[] = [];
      let continueToken: string | undefined;
      do {
        const page = await read(`listing ${ref.kind}s`, () =>
          transport.objects.list(ref.apiVersion, ref.kind, ref.namespace, undefined, undefined, undefined, undefined, ref.labelSelector, 500, continueToken));
        // A list's items carry no kind or apiVersion of their own.
        items.push(...page.items.map((item) => ({ ...item, apiVersion: item.apiVersion ?? ref.apiVersion, kind: item.kind ?? ref.kind })));
        continueToken = page.metadata?._continue || undefined;
      } while (continueToken !== undefined);
      return items;
    },

    requestCount: () => transport.requestCount(),
    preconnect: () => transport.preconnect(),
    close: () => transport.close(),
  };
}

function nodeAddresses(node: V1Node): NodeAddresses {
  const addressOf = (type: string): string | undefined =>
    node.status?.addresses?.find((address) => address.type === type)?.address;
  const externalIP = addressOf('ExternalIP');
  const internalIP = addressOf('InternalIP');
  const hostname = addressOf('Hostname');
  return {
    name: node.metadata?.name ?? '',
    ready: (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    ...(externalIP ? { externalIP } : {}),
    ...(internalIP ? { internalIP } : {}),
    ...(hostname ? { hostname } : {}),
  };
}

async function requestWithRetry<T>(transport: Transport, policy: RetryPolicy, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return (await withRetry(call, policy)).value;
  } catch (error: unknown) {
    if (error instanceof RetriesExhausted) throw requestFailure(transport.system, what, error.failure);
    throw error;
  }
}

/** True when it deleted something, false when it was already gone (404). */
async function deleteIfPresent(transport: Transport, policy: RetryPolicy, what: string, call: () => Promise<unknown>): Promise<boolean> {
  try {
    await withRetry(call, policy);
    return true;
  } catch (error: unknown) {
    if (!(error instanceof RetriesExhausted)) throw error;
    if (error.failure.kind === 'http' && error.failure.status === 404) return false;
    throw requestFailure(transport.system, what, error.failure);
  }
}

export function requestFailure(system: string, what: string, failure: CallFailure): KubernetesRequestError {
  const detail = failure.kind === 'http' ? `HTTP ${failure.status}: ${failure.message}` : failure.message;
  return new KubernetesRequestError(system, `${what} failed: ${detail}`, {
    ...(failure.kind === 'http' ? { httpStatus: failure.status } : {}),
    transient: failure.kind !== 'client' && failure.transient,
    timedOut: failure.kind === 'network' && failure.timedOut,
  });
}
