import { createServer } from 'node:net';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  buildKubeConfig,
  createClusterClient,
  DeployNotReadyError,
  KubernetesApplyError,
  KubernetesRequestError,
  waitForReady,
  type ClusterClient,
} from '../../src/adapters/kubernetes/index.js';
import { delayBeforeRetry, DEFAULT_RETRY_POLICY } from '../../src/adapters/kubernetes/retry.js';
import { parseKubeconfig, type SafeKubeconfig } from '../../src/domain/kubeconfig.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';

/**
 * The Kubernetes adapter against the fake Kubernetes API server (test/support/fake-kube, a test
 * double that speaks the API over TLS with client certificates and simulates the controllers).
 * Each test works in a namespace of its own, so tests do not see each other's objects.
 */

const MANAGED = { 'app.kubernetes.io/managed-by': 'slipway' };
const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20, attempts: 4 };

let fake: FakeKube;
let safe: SafeKubeconfig;
let client: ClusterClient;
let namespaceCounter = 0;

beforeAll(async () => {
  fake = await startFakeKube();
  safe = parseKubeconfig(fake.kubeconfig, { allowInsecure: false });
  client = createClusterClient(safe, { retry: FAST_RETRY, requestTimeoutMs: 10_000 });
});

afterEach(() => {
  fake.faults.clear();
  fake.setLatency(0);
});

afterAll(async () => {
  client?.close();
  await fake?.close();
});

function freshNamespace(): string {
  namespaceCounter += 1;
  return `sol-${namespaceCounter}-${process.pid}`;
}

function deploymentObject(namespace: string, name: string, image: string): KubernetesObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { ...MANAGED, app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { ...MANAGED, app: name } },
        spec: {
          containers: [
            {
              name,
              image,
              ports: [
                { name: 'protobuf-api', containerPort: 8061 },
                { name: 'webui', containerPort: 8062 },
              ],
            },
          ],
        },
      },
    },
  } as KubernetesObject;
}

function serviceObject(namespace: string, name: string): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: { ...MANAGED } },
    spec: {
      type: 'NodePort',
      selector: { app: name },
      ports: [
        { name: 'protobuf-api', port: 8061, targetPort: 8061 },
        { name: 'webui', port: 8062, targetPort: 8062 },
      ],
    },
  } as KubernetesObject;
}

function pvcObject(namespace: string, storageClassName?: string): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'pipeline', namespace, labels: { ...MANAGED } },
    spec: {
      accessModes: ['ReadWriteMany'],
      resources: { requests: { storage: '1Gi' } },
      ...(storageClassName ? { storageClassName } : {}),
    },
  } as KubernetesObject;
}

/** Namespace → PVC → Services → Deployments, the order a deploy applies them in. */
function solutionWaves(namespace: string, images: Record<string, string>, storageClassName?: string): KubernetesObject[][] {
  const names = Object.keys(images);
  return [
    [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { ...MANAGED } } }],
    [pvcObject(namespace, storageClassName)],
    names.map((name) => serviceObject(namespace, name)),
    names.map((name) => deploymentObject(namespace, name, images[name] ?? '')),
  ];
}

function expectedOf(images: Record<string, string>) {
  const names = Object.keys(images);
  return { deployments: names, persistentVolumeClaims: ['pipeline'], services: names };
}

const IMAGES = { alpha: 'registry.example.org/models/alpha:1', beta: 'registry.example.org/models/beta:1' };

/** The recorded server-side apply requests for one namespace, as `Kind/name` in arrival order. */
function appliedInOrder(namespace: string): string[] {
  const kindByPlural: Record<string, string> = {
    namespaces: 'Namespace',
    persistentvolumeclaims: 'PersistentVolumeClaim',
    services: 'Service',
    deployments: 'Deployment',
  };
  return fake.requests
    .filter((r) => r.method === 'PATCH' && r.path.includes(`/namespaces/${namespace}`))
    .map((r) => {
      const parts = r.path.split('/');
      const name = parts.at(-1) ?? '';
      const plural = parts.at(-2) ?? '';
      return `${kindByPlural[plural] ?? plural}/${name}`;
    });
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error: unknown) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('applyWaves', () => {
  it('applies wave after wave with server-side apply as field manager slipway', async () => {
    const namespace = freshNamespace();
    const seen: string[] = [];
    const result = await client.applyWaves(solutionWaves(namespace, IMAGES), {
      fieldManager: 'slipway',
      concurrency: 4,
      onApplied: (object) => seen.push(`${object.kind}/${object.metadata?.name}`),
    });
    expect(result.applied).toBe(6);
    expect(result.waves).toBe(4);
    expect(result.requests).toBeGreaterThanOrEqual(6);
    expect(seen).toHaveLength(6);

    const order = appliedInOrder(namespace);
    const lastIndexOf = (kind: string): number => Math.max(...order.map((o, i) => (o.startsWith(`${kind}/`) ? i : -1)));
    const firstIndexOf = (kind: string): number => order.findIndex((o) => o.startsWith(`${kind}/`));
    expect(order).toHaveLength(6);
    expect(lastIndexOf('Namespace')).toBeLessThan(firstIndexOf('PersistentVolumeClaim'));
    expect(lastIndexOf('PersistentVolumeClaim')).toBeLessThan(firstIndexOf('Service'));
    expect(lastIndexOf('Service')).toBeLessThan(firstIndexOf('Deployment'));

    const patches = fake.requests.filter((r) => r.method === 'PATCH' && r.path.includes(`/namespaces/${namespace}`));
    for (const request of patches) {
      expect(request.contentType).toBe('application/apply-patch+yaml');
      expect(request.query).toMatchObject({ fieldManager: 'slipway', force: 'true' });
    }
    const stored = fake.getObject('apps/v1', 'Deployment', namespace, 'alpha');
    expect(stored?.metadata.labels).toMatchObject(MANAGED);
  });

  it('is idempotent: applying again changes nothing and needs no discovery', async () => {
    const namespace = freshNamespace();
    const waves = solutionWaves(namespace, IMAGES);
    await client.applyWaves(waves, { fieldManager: 'slipway', concurrency: 4 });
    // The controllers keep writing status, so compare what an apply owns: spec, generation, managers.
    const snapshot = () =>
      ['alpha', 'beta'].map((name) => {
        const stored = fake.getObject('apps/v1', 'Deployment', namespace, name);
        return { spec: stored?.spec, generation: stored?.metadata.generation, managers: stored?.metadata.managedFields?.map((f) => `${f.manager}:${f.operation}`) };
      });
    const before = snapshot();
    const again = await client.applyWaves(waves, { fieldManager: 'slipway', concurrency: 4 });
    expect(again.applied).toBe(6);
    expect(again.requests).toBe(6);
    expect(snapshot()).toEqual(before);
    expect(before[0]?.managers).toContain('slipway:Apply');
    expect(fake.listObjects('Deployment').filter((d) => d.metadata.namespace === namespace)).toHaveLength(2);
  });

  it('needs no discovery round trip for the built-in kinds it applies', async () => {
    const fresh = createClusterClient(safe, { retry: FAST_RETRY });
    try {
      const namespace = freshNamespace();
      const start = fake.requests.length;
      const many = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`m${i}`, `registry.example.org/m${i}:1`]));
      await fresh.applyWaves(solutionWaves(namespace, many), { fieldManager: 'slipway', concurrency: 8 });
      const discovery = fake.requests.slice(start).filter((r) => r.method === 'GET' && (r.path === '/api/v1' || r.path === '/apis/apps/v1'));
      expect(discovery.map((r) => r.path)).toEqual([]);
      expect(fake.getObject('apps/v1', 'Deployment', namespace, 'm0')).toBeDefined();
    } finally {
      fresh.close();
    }
  });

  it('retries 500s and 429s and then succeeds', async () => {
    const namespace = freshNamespace();
    fake.faults.failRequests({ method: 'PATCH', pathIncludes: `/namespaces/${namespace}/services/`, status: 500, count: 2 });
    fake.faults.failRequests({ method: 'PATCH', pathIncludes: `/namespaces/${namespace}/deployments/`, status: 429, count: 1, retryAfterSeconds: 0 });
    const result = await client.applyWaves(solutionWaves(namespace, IMAGES), { fieldManager: 'slipway', concurrency: 2 });
    expect(result.applied).toBe(6);
    expect(result.retries).toBe(3);
    expect(fake.getObject('v1', 'Service', namespace, 'alpha')).toBeDefined();
  });

  it('honours Retry-After when it is longer than the backoff (capped)', () => {
    const failure = { kind: 'http', status: 429, message: 'slow down', transient: true, retryAfterMs: 2000 } as const;
    expect(delayBeforeRetry(failure, 0, DEFAULT_RETRY_POLICY)).toBe(2000);
    expect(delayBeforeRetry({ ...failure, retryAfterMs: 120_000 }, 0, DEFAULT_RETRY_POLICY)).toBe(DEFAULT_RETRY_POLICY.maxRetryAfterMs);
  });

  it('gives up after the bounded retries with an error naming the cluster and the object', async () => {
    const namespace = freshNamespace();
    fake.faults.failRequests({ method: 'PATCH', pathIncludes: `/namespaces/${namespace}/persistentvolumeclaims/`, status: 503, count: 50, retryAfterSeconds: 0 });
    const error = await rejectionOf(client.applyWaves(solutionWaves(namespace, IMAGES), { fieldManager: 'slipway', concurrency: 2 }));
    expect(error).toBeInstanceOf(KubernetesRequestError);
    const requestError = error as KubernetesRequestError;
    expect(requestError.message).toContain(`Kubernetes API ${new URL(fake.url).host}`);
    expect(requestError.message).toContain('PersistentVolumeClaim/pipeline');
    expect(requestError.message).toContain(`after ${FAST_RETRY.attempts} attempt(s)`);
    expect(requestError.transient).toBe(true);
    expect(appliedInOrder(namespace).filter((o) => o.startsWith('PersistentVolumeClaim/'))).toHaveLength(FAST_RETRY.attempts);
    expect(appliedInOrder(namespace).some((o) => o.startsWith('Service/') || o.startsWith('Deployment/'))).toBe(false);
  });

  it('fails at once on a 422, naming Kind/name and the server\'s message, and stops later waves', async () => {
    const namespace = freshNamespace();
    fake.faults.failRequests({
      method: 'PATCH',
      pathIncludes: `/namespaces/${namespace}/persistentvolumeclaims/pipeline`,
      status: 422,
      count: 5,
      body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Invalid', code: 422, message: 'PersistentVolumeClaim "pipeline" is invalid: spec.accessModes: Unsupported value' },
    });
    const error = await rejectionOf(client.applyWaves(solutionWaves(namespace, IMAGES), { fieldManager: 'slipway', concurrency: 2 }));
    expect(error).toBeInstanceOf(KubernetesApplyError);
    const applyError = error as KubernetesApplyError;
    expect(applyError.code).toBe('kubernetes_apply_failed');
    expect(applyError.httpStatus).toBe(422);
    expect(applyError.object).toBe('PersistentVolumeClaim/pipeline');
    expect(applyError.message).toContain('PersistentVolumeClaim/pipeline');
    expect(applyError.message).toContain('spec.accessModes: Unsupported value');
    expect(appliedInOrder(namespace)).toEqual([`Namespace/${namespace}`, 'PersistentVolumeClaim/pipeline']);
  });

  it('reports the API server\'s own validation message for an invalid object', async () => {
    const namespace = freshNamespace();
    const broken = deploymentObject(namespace, 'broken', 'registry.example.org/x:1') as { spec: { selector?: unknown } } & KubernetesObject;
    delete broken.spec.selector;
    const waves = [[{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }], [broken]];
    const error = await rejectionOf(client.applyWaves(waves, { fieldManager: 'slipway', concurrency: 1 }));
    expect(error).toBeInstanceOf(KubernetesApplyError);
    expect((error as KubernetesApplyError).message).toMatch(/rejected Deployment\/broken \(HTTP 422\): .*selector/i);
  });

  it('stops when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await rejectionOf(client.applyWaves(solutionWaves(freshNamespace(), IMAGES), { fieldManager: 'slipway', concurrency: 2, signal: controller.signal }));
    expect((error as Error).name).toBe('AbortError');
  });
});

describe('reads', () => {
  it('lists node addresses', async () => {
    const nodes = await client.listNodeAddresses();
    expect(nodes.length).toBeGreaterThan(0);
    expect(nodes[0]).toMatchObject({ internalIP: '10.0.0.11', ready: true });
  });

  it('reads the namespace state and the services\' node ports', async () => {
    const namespace = freshNamespace();
    await client.applyWaves(solutionWaves(namespace, IMAGES), { fieldManager: 'slipway', concurrency: 4 });
    const state = await client.readState(namespace, 'app.kubernetes.io/managed-by=slipway');
    expect(state.deployments.map((d) => d.metadata?.name).sort()).toEqual(['alpha', 'beta']);
    expect(state.services).toHaveLength(2);
    expect(state.pvcs.map((p) => p.metadata?.name)).toEqual(['pipeline']);

    await waitForReady(client, namespace, expectedOf(IMAGES), { timeoutMs: 20_000, pollMs: 100 });
    const ports = await client.getServiceNodePorts(namespace);
    for (const name of Object.keys(IMAGES)) {
      const entry = ports.get(name);
      expect(entry?.['protobuf-api']).toBeGreaterThanOrEqual(30000);
      expect(entry?.webui).toBeGreaterThanOrEqual(30000);
    }
  });
});

describe('waitForReady', () => {
  it('resolves once every Deployment is available, its pods Ready and the volume bound', async () => {
    const namespace = freshNamespace();
    await client.applyWaves(solutionWaves(namespace, IMAGES), { fieldManager: 'slipway', concurrency: 4 });
    const changes: boolean[] = [];
    const health = await waitForReady(client, namespace, expectedOf(IMAGES), {
      timeoutMs: 20_000,
      pollMs: 100,
      onChange: (h) => changes.push(h.ready),
    });
    expect(health.ready).toBe(true);
    expect(health.nodes.every((n) => n.status === 'ready')).toBe(true);
    expect(changes.at(-1)).toBe(true);
  });

  /** Applies a solution whose `faulty` node trips a fault; returns the wait's rejection. */
  async function notReadyReason(images: Record<string, string>, storageClass?: string): Promise<DeployNotReadyError> {
    const namespace = freshNamespace();
    await client.applyWaves(solutionWaves(namespace, images, storageClass), { fieldManager: 'slipway', concurrency: 4 });
    const error = await rejectionOf(waitForReady(client, namespace, expectedOf(images), { timeoutMs: 2500, pollMs: 100 }));
    expect(error).toBeInstanceOf(DeployNotReadyError);
    expect((error as DeployNotReadyError).code).toBe('deploy_not_ready');
    return error as DeployNotReadyError;
  }

  it('times out naming an image that cannot be pulled, with the registry\'s answer', async () => {
    fake.faults.imagePull('no-such-image', 'manifest unknown: tag 9.9 not found');
    const image = 'registry.example.org/no-such-image:9.9';
    const error = await notReadyReason({ alpha: IMAGES.alpha, faulty: image });
    expect(error.terminal).toBe(false);
    const node = error.nodes.find((n) => n.kind === 'Deployment' && n.name === 'faulty');
    expect(node?.reason).toContain(`cannot pull image ${image}`);
    expect(node?.reason).toContain('manifest unknown: tag 9.9 not found');
    expect(error.nodes.some((n) => n.name === 'alpha')).toBe(false);
    expect(error.message).toContain('Deployment/faulty: cannot pull image');
  });

  it('names a crash loop with its exit reason and code', async () => {
    fake.faults.crashLoop('crashy', { reason: 'Error', exitCode: 3 });
    const error = await notReadyReason({ faulty: 'registry.example.org/crashy:1' });
    const node = error.nodes.find((n) => n.name === 'faulty');
    expect(node?.reason).toMatch(/keeps crashing \(CrashLoopBackOff.*last exit: Error, code 3/);
  });

  it('names an unschedulable pod with the scheduler\'s message', async () => {
    fake.faults.unschedulable('huge-model', '0/1 nodes are available: 1 Insufficient memory.');
    const error = await notReadyReason({ faulty: 'registry.example.org/huge-model:1' });
    expect(error.terminal).toBe(false);
    expect(error.nodes.find((n) => n.name === 'faulty')?.reason).toContain('0/1 nodes are available: 1 Insufficient memory.');
  });

  it('names a volume that cannot be provisioned', async () => {
    const message = 'failed to provision volume with StorageClass "no-rwx": ReadWriteMany is not supported';
    fake.faults.pvcPending(message, { storageClass: 'no-rwx' });
    const error = await notReadyReason({ alpha: IMAGES.alpha }, 'no-rwx');
    const claim = error.nodes.find((n) => n.kind === 'PersistentVolumeClaim');
    expect(claim?.reason).toBe(`cannot provision volume: ${message}`);
  });

  it('keeps polling through transient read failures', async () => {
    const namespace = freshNamespace();
    await client.applyWaves(solutionWaves(namespace, IMAGES), { fieldManager: 'slipway', concurrency: 4 });
    fake.faults.failRequests({ method: 'GET', pathIncludes: `/namespaces/${namespace}/pods`, status: 503, count: FAST_RETRY.attempts + 1, retryAfterSeconds: 0 });
    const health = await waitForReady(client, namespace, expectedOf(IMAGES), { timeoutMs: 20_000, pollMs: 100 });
    expect(health.ready).toBe(true);
  });
});

describe('deletes', () => {
  it('deletes by label, idempotently', async () => {
    const namespace = freshNamespace();
    await client.applyWaves(solutionWaves(namespace, IMAGES), { fieldManager: 'slipway', concurrency: 4 });
    const deleted = await client.deleteByLabel(namespace, 'app.kubernetes.io/managed-by=slipway');
    expect(deleted).toBe(5);
    const alpha = fake.getObject('apps/v1', 'Deployment', namespace, 'alpha');
    expect(alpha === undefined || alpha.metadata.deletionTimestamp !== undefined).toBe(true);
    const state = await client.readState(namespace, 'app.kubernetes.io/managed-by=slipway');
    expect(state.services).toHaveLength(0);
    expect(await client.deleteByLabel(namespace, 'app.kubernetes.io/managed-by=slipway')).toBe(0);
  });

  it('deletes a namespace and treats a missing one as done', async () => {
    const namespace = freshNamespace();
    await client.applyWaves([[{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]], { fieldManager: 'slipway', concurrency: 1 });
    expect(await client.deleteNamespace(namespace)).toBe('deleting');
    expect(await client.deleteNamespace(`never-${namespace}`)).toBe('absent');
  });
});

describe('failures name the cluster and never a credential', () => {
  const secretsOf = (kc: SafeKubeconfig): string[] =>
    kc.auth.kind === 'clientCert' ? [kc.auth.certData.slice(20, 60), kc.auth.keyData.slice(20, 60)] : [];

  it('an unreachable API server is a transient error naming it', async () => {
    const port = await closedPort();
    const unreachable = createClusterClient({ ...safe, server: `https://127.0.0.1:${port}` }, { retry: { ...FAST_RETRY, attempts: 2 } });
    const error = await rejectionOf(unreachable.readState('default'));
    expect(error).toBeInstanceOf(KubernetesRequestError);
    const requestError = error as KubernetesRequestError;
    expect(requestError.message).toContain(`Kubernetes API 127.0.0.1:${port}`);
    expect(requestError.message).toContain('ECONNREFUSED');
    expect(requestError.transient).toBe(true);
    for (const secret of secretsOf(safe)) expect(requestError.message).not.toContain(secret);
    unreachable.close();
  });

  it('a request slower than the timeout fails as a timeout (504)', async () => {
    fake.setLatency(400);
    const impatient = createClusterClient(safe, { requestTimeoutMs: 100, retry: { ...FAST_RETRY, attempts: 2 } });
    const error = await rejectionOf(impatient.listNodeAddresses());
    expect(error).toBeInstanceOf(KubernetesRequestError);
    expect((error as KubernetesRequestError).status).toBe(504);
    expect((error as KubernetesRequestError).message).toMatch(/listing Nodes failed: the request timed out/);
    impatient.close();
  });

  it('checks the server certificate: without the CA it fails at once, not after retries', async () => {
    const { caData: _ca, ...withoutCa } = safe;
    const start = fake.requests.length;
    const untrusting = createClusterClient(withoutCa, { retry: FAST_RETRY });
    const error = await rejectionOf(untrusting.listNodeAddresses());
    expect(error).toBeInstanceOf(KubernetesRequestError);
    expect((error as KubernetesRequestError).transient).toBe(false);
    expect((error as KubernetesRequestError).message).toMatch(/certificate/i);
    expect(fake.requests.length).toBe(start);
    untrusting.close();
  });
});

describe('buildKubeConfig', () => {
  const base = { server: 'https://k8s.example.org', insecureSkipTlsVerify: false, contextName: 'x' } as const;

  it('holds only inline data: no file, command, plugin or proxy', () => {
    const kc = buildKubeConfig(safe);
    const cluster = kc.getCurrentCluster();
    const user = kc.getCurrentUser();
    expect(cluster).toMatchObject({ server: safe.server, caData: safe.caData, skipTLSVerify: false });
    expect(cluster?.caFile).toBeUndefined();
    expect(cluster?.proxyUrl).toBeUndefined();
    expect(Object.keys(user ?? {}).sort()).toEqual(['certData', 'keyData', 'name']);
  });

  it('sends a token or basic credentials as the Authorization header', async () => {
    const options: { headers?: Record<string, unknown> } = {};
    await buildKubeConfig({ ...base, auth: { kind: 'token', token: 'abc' } }).applyToHTTPSOptions(options);
    expect(options.headers?.Authorization).toBe('Bearer abc');
    const kc = buildKubeConfig({ ...base, auth: { kind: 'basic', username: 'u', password: 'p' } });
    expect(kc.getCurrentUser()).toMatchObject({ username: 'u', password: 'p' });
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
