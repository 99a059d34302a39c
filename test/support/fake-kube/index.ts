/**
 * A fake Kubernetes API server — a TEST DOUBLE, never a cluster.
 *
 * The real `@kubernetes/client-node` (and kubectl) talk to it over HTTPS — HTTP/2 or HTTP/1.1,
 * chosen by ALPN as with a kube-apiserver — with client-certificate authentication (a throw-away
 * CA, server and client certificates made with `openssl` at start), using the kube config in
 * `kubeconfig`.
 *
 * What it simulates:
 * - discovery (`/version`, `/api`, `/api/v1`, `/apis`, `/apis/<group>/<version>`) for core/v1
 *   namespaces, nodes, pods (+ `/log`), services, secrets, configmaps, persistentvolumeclaims,
 *   events, serviceaccounts; apps/v1 deployments; batch/v1 jobs; CustomResourceDefinitions and
 *   the custom kinds they define (or that a test registers with `registerResource`);
 * - get, list (label/field selectors, limit/continue), watch (JSON lines, resourceVersion
 *   resume, 410 when too old), create, replace, JSON/merge/strategic patch, server-side apply
 *   (a simplified merge, see merge.ts, with managedFields and conflicts between apply
 *   managers), delete (namespaces terminate over a few ticks and take their contents along),
 *   deletecollection, dryRun=All, `Status` errors worded like the real server's (404, 409
 *   AlreadyExists/Conflict, 422 Invalid for bad names and a few spec rules, 403 in a
 *   terminating namespace, 400 for mismatched names/namespaces);
 * - a control loop (every `tickMs`, 50 ms by default, its work in short slices so that it does
 *   not hold API requests up, as the separate controller processes of a cluster do not): Deployments get pods that become Ready and
 *   a status with the real conditions; Jobs run one pod and complete or fail; Services get a
 *   clusterIP and unique node ports (kept across applies); claims bind; Events are written the
 *   way kubelet, scheduler and controllers write them;
 * - faults settable at runtime (`faults`): image pull failures, crash loops, unschedulable pods,
 *   claims stuck Pending, failing Jobs, failing requests (500, 429 with Retry-After, 409, …)
 *   and latency.
 *
 * What it does not: authorisation (any valid client certificate is cluster-admin), admission
 * webhooks, ReplicaSet objects, rolling-update arithmetic (a template change replaces all pods),
 * Job retries, probes, resource limits, real networking (node and pod addresses are fake and
 * never contacted), protobuf, exec/attach/port-forward, and most of the validation a real server
 * does. Server-side apply tracks field ownership only per apply manager, not for updates.
 */
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringify as toYaml } from 'yaml';
import { Admission } from './admission.js';
import type { ApiContext } from './commit.js';
import { ClusterController } from './controller.js';
import { Faults, type FaultControls } from './faults.js';
import { LogBook } from './logs.js';
import { ResourceRegistry } from './resources.js';
import { Router, type RecordedRequest } from './router.js';
import { ObjectStore } from './store.js';
import { generateTlsMaterial } from './tls.js';
import { clone, nowIso, splitApiVersion, type KubeObject, type ResourceType } from './types.js';

export type { RecordedRequest } from './router.js';
export type { CrashLoopSpec, FaultControls, RequestFailureRule } from './faults.js';
export type { KubeObject, ResourceType } from './types.js';

export interface FakeNode {
  name: string;
  externalIP?: string;
  internalIP?: string;
}

export interface FakeKubeOptions {
  /** Delay added to every request (changeable later with `setLatency`). */
  latencyMs?: number;
  /** Nodes to list; one `node-1` with InternalIP 10.0.0.11 when omitted. */
  nodes?: FakeNode[];
  /** Control-loop period; 50 ms by default. */
  tickMs?: number;
  /** Ticks a deleted Namespace stays Terminating; 3 by default, 0 removes it at once. */
  namespaceDeletionTicks?: number;
}

/** A custom kind the server should serve, as a CustomResourceDefinition would declare it. */
export type ResourceDefinition = Omit<ResourceType, 'subresources' | 'custom'> & { subresources?: string[] };

export type JobCompletionHook = (job: KubeObject, kube: FakeKube) => void | Promise<void>;

export interface FakeKube {
  url: string;
  /** A kube config (YAML) with the CA, client certificate and key inline. */
  kubeconfig: string;
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** Every request received, oldest first (a live array). */
  requests: RecordedRequest[];
  resetRequests(): void;
  faults: FaultControls;
  setLatency(ms: number): void;
  /** `apiVersion` may be `apps/v1`, `v1` or just the group (`apps`, `` for core). */
  getObject(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  listObjects(kind?: string): KubeObject[];
  /** Stores an object as given (status included, no validation), for seeding a scenario. */
  putObject(object: KubeObject): KubeObject;
  deleteObject(apiVersion: string, kind: string, namespace: string | undefined, name: string): boolean;
  registerResource(resource: ResourceDefinition): void;
  /** Runs before a Job is marked Complete, e.g. to create the Secret an installer would write; returns its removal. */
  onJobComplete(hook: JobCompletionHook): () => void;
  setPodLogs(namespace: string, podName: string, text: string): void;
  /** Logs of every pod of that Job, including pods created later. */
  setJobLogs(namespace: string, jobName: string, text: string): void;
  setNamespaceDeletionTicks(ticks: number): void;
  /** Runs one control-loop step now (in addition to the timer). */
  tick(): Promise<void>;
  close(): Promise<void>;
}

function nodeObject(node: FakeNode, index: number): KubeObject {
  const internalIP = node.internalIP ?? `10.0.0.${11 + index}`;
  const addresses = [
    { type: 'InternalIP', address: internalIP },
    ...(node.externalIP ? [{ type: 'ExternalIP', address: node.externalIP }] : []),
    { type: 'Hostname', address: node.name },
  ];
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: node.name, labels: { 'kubernetes.io/hostname': node.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' } },
    spec: { podCIDR: `10.244.${index}.0/24` },
    status: {
      addresses,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: nowIso(), lastTransitionTime: nowIso() }],
      capacity: { cpu: '4', memory: '16Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '16Gi', pods: '110' },
      nodeInfo: { kubeletVersion: 'v1.30.0', containerRuntimeVersion: 'containerd://1.7.0', osImage: 'fake-kube', architecture: 'amd64', operatingSystem: 'linux' },
    },
  };
}

function kubeconfigYaml(url: string, caPem: string, certPem: string, keyPem: string): string {
  const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
  return toYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'fake-kube', cluster: { server: url, 'certificate-authority-data': base64(caPem) } }],
    users: [{ name: 'fake-kube-admin', user: { 'client-certificate-data': base64(certPem), 'client-key-data': base64(keyPem) } }],
    contexts: [{ name: 'fake-kube', context: { cluster: 'fake-kube', user: 'fake-kube-admin', namespace: 'default' } }],
    'current-context': 'fake-kube',
    preferences: {},
  });
}

async function listen(server: Http2SecureServer): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake-kube: no TCP address');
  return address;
}

export async function startFakeKube(options: FakeKubeOptions = {}): Promise<FakeKube> {
  const tls = await generateTlsMaterial();
  const registry = new ResourceRegistry();
  const store = new ObjectStore();
  const faults = new Faults(options.latencyMs ?? 0);
  const logs = new LogBook();
  const admission = new Admission(store, (kind) => registry.byKind('', kind));
  const requests: RecordedRequest[] = [];
  const watches = new Set<ServerResponse>();
  const jobHooks: JobCompletionHook[] = [];
  let namespaceDeletionTicks = options.namespaceDeletionTicks ?? 3;
  let address = '127.0.0.1:0';
  let kube: FakeKube | undefined;

  const controller = new ClusterController({
    store, registry, admission, faults, logs,
    jobHooks: [async (job) => { for (const hook of jobHooks) if (kube) await hook(job, kube); }],
    tickMs: options.tickMs ?? 50,
    namespaceDeletionTicks: () => namespaceDeletionTicks,
  });
  const ctx: ApiContext = { store, registry, admission, logs, onNamespaceDeleting: (name) => controller.namespaceDeleting(name) };
  const router = new Router({ ctx, faults, requests, serverAddress: () => address, watches });

  const typeOf = (apiVersion: string, kind: string): ResourceType | undefined => {
    const group = apiVersion.includes('/') ? splitApiVersion(apiVersion).group : /^v\d/.test(apiVersion) ? '' : apiVersion;
    return registry.byKind(group, kind);
  };
  const putObject = (object: KubeObject): KubeObject => {
    const resource = typeOf(object.apiVersion, object.kind);
    if (!resource) throw new Error(`fake-kube: ${object.apiVersion} ${object.kind} is not served`);
    const existing = store.get(resource, object.metadata.namespace, object.metadata.name ?? '');
    const prepared = admission.prepareCreate(resource, clone(object), true);
    prepared.metadata.uid = object.metadata.uid ?? existing?.metadata.uid ?? prepared.metadata.uid;
    prepared.metadata.creationTimestamp = object.metadata.creationTimestamp ?? existing?.metadata.creationTimestamp ?? prepared.metadata.creationTimestamp;
    return store.write(resource, prepared);
  };

  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    putObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  (options.nodes ?? [{ name: 'node-1', internalIP: '10.0.0.11' }]).forEach((node, index) => putObject(nodeObject(node, index)));
  // A default StorageClass, as most clusters (kind, k3s, the clouds) come with.
  putObject({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'fake-kube/hostpath' } as KubeObject);

  // HTTP/2 and HTTP/1.1 (ALPN), as a kube-apiserver: kubectl and Slipway speak h2, the client
  // library's watch and log streams HTTP/1.1. The compatibility API gives both the http module's
  // request and response.
  const server = createSecureServer(
    { key: tls.serverKeyPem, cert: tls.serverCertPem, ca: tls.caPem, requestCert: true, rejectUnauthorized: true, allowHTTP1: true },
    (h2request, h2response) => {
      const request = h2request as unknown as IncomingMessage;
      const response = h2response as unknown as ServerResponse;
      router.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain' });
        response.end(`fake-kube: ${error instanceof Error ? error.message : String(error)}`);
      });
    },
  );
  const connections = new Set<Socket>();
  server.on('secureConnection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  const info = await listen(server);
  address = `127.0.0.1:${info.port}`;
  const url = `https://${address}`;
  controller.start();

  kube = {
    url,
    kubeconfig: kubeconfigYaml(url, tls.caPem, tls.clientCertPem, tls.clientKeyPem),
    caPem: tls.caPem,
    clientCertPem: tls.clientCertPem,
    clientKeyPem: tls.clientKeyPem,
    requests,
    resetRequests: () => { requests.length = 0; },
    faults,
    setLatency: (ms) => faults.setLatency(ms),
    getObject: (apiVersion, kind, namespace, name) => {
      const resource = typeOf(apiVersion, kind);
      return resource ? store.get(resource, namespace, name) : undefined;
    },
    listObjects: (kind) => store.entries().map((e) => e.object).filter((o) => kind === undefined || o.kind === kind),
    putObject,
    deleteObject: (apiVersion, kind, namespace, name) => {
      const resource = typeOf(apiVersion, kind);
      return resource !== undefined && store.remove(resource, namespace, name) !== undefined;
    },
    registerResource: (resource) => registry.register({ ...resource, subresources: resource.subresources ?? [], custom: true }),
    onJobComplete: (hook) => {
      jobHooks.push(hook);
      return () => {
        const index = jobHooks.indexOf(hook);
        if (index >= 0) jobHooks.splice(index, 1);
      };
    },
    setPodLogs: (namespace, podName, text) => logs.setPodLogs(namespace, podName, text),
    setJobLogs: (namespace, jobName, text) => logs.setJobLogs(namespace, jobName, text),
    setNamespaceDeletionTicks: (ticks) => { namespaceDeletionTicks = ticks; },
    tick: () => controller.tick(),
    close: async () => {
      await controller.stop();
      for (const response of watches) response.end();
      watches.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of connections) socket.destroy();
      });
    },
  };
  return kube;
}
