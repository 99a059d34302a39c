/**
 * The fake Kubernetes API server (test/support/fake-kube, a test double) driven by the real
 * `@kubernetes/client-node` 1.4 client over HTTPS with client-certificate authentication.
 */
import { request as httpsRequest } from 'node:https';
import {
  ApiException, ApisApi, AppsV1Api, BatchV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy, VersionApi, Watch,
  type KubernetesObject, type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';

let kube: FakeKube;
let objects: KubernetesObjectApi;
let core: CoreV1Api;
let apps: AppsV1Api;
let batch: BatchV1Api;
let namespaceCounter = 0;

beforeAll(async () => {
  kube = await startFakeKube({ nodes: [{ name: 'node-1', internalIP: '10.0.0.11', externalIP: '192.0.2.10' }] });
  const config = new KubeConfig();
  config.loadFromString(kube.kubeconfig);
  objects = KubernetesObjectApi.makeApiClient(config);
  core = config.makeApiClient(CoreV1Api);
  apps = config.makeApiClient(AppsV1Api);
  batch = config.makeApiClient(BatchV1Api);
});

afterAll(async () => {
  await kube.close();
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function apply<T extends KubernetesObject>(object: T): Promise<KubernetesObject> {
  return objects.patch(object, undefined, undefined, 'slipway', true, PatchStrategy.ServerSideApply);
}

async function freshNamespace(): Promise<string> {
  namespaceCounter += 1;
  const name = `test-${namespaceCounter}`;
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

function deployment(namespace: string, name: string, image: string, replicas = 1): KubernetesObject & Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'model', image, ports: [{ name: 'protobuf-api', containerPort: 8061 }] }] } },
    },
  };
}

function statusOf(error: unknown): { code: number; reason: string; message: string } {
  if (!(error instanceof ApiException)) throw error;
  const body: unknown = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
  const status = body as { code: number; reason: string; message: string };
  return { code: error.code, reason: status.reason, message: status.message };
}

async function podsOf(namespace: string, app: string): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items;
}

async function eventsAbout(namespace: string, name: string): Promise<Array<{ reason?: string; message?: string }>> {
  return (await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` })).items;
}

describe('transport and discovery', () => {
  it('answers discovery so that KubernetesObjectApi resolves kinds', async () => {
    const config = new KubeConfig();
    config.loadFromString(kube.kubeconfig);
    const version = await config.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toMatch(/^v1\./);
    const groups = (await config.makeApiClient(ApisApi).getAPIVersions()).groups.map((g) => g.name);
    expect(groups).toEqual(expect.arrayContaining(['apps', 'batch']));
    const appsResources = (await apps.getAPIResources()).resources;
    expect(appsResources.find((r) => r.kind === 'Deployment')).toMatchObject({ name: 'deployments', namespaced: true });
    const coreResources = (await core.getAPIResources()).resources;
    expect(coreResources.find((r) => r.kind === 'Namespace')).toMatchObject({ name: 'namespaces', namespaced: false });
    expect(coreResources.map((r) => r.name)).toEqual(expect.arrayContaining(['pods', 'pods/log', 'services', 'secrets', 'configmaps', 'persistentvolumeclaims', 'events', 'nodes']));
    kube.resetRequests();
    const fresh = KubernetesObjectApi.makeApiClient(config);
    const nodes = (await fresh.list('v1', 'Node')).items.map((n) => n.metadata?.name);
    expect(nodes).toEqual(['node-1']);
    expect(kube.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1', 'GET /api/v1/nodes']);
  });

  it('refuses a TLS client without the client certificate', async () => {
    const get = (withCert: boolean): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = httpsRequest(`${kube.url}/version`, {
          ca: kube.caPem,
          ...(withCert ? { cert: kube.clientCertPem, key: kube.clientKeyPem } : {}),
        }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await get(true)).toBe(200);
    await expect(get(false)).rejects.toThrow();
  });

  it('lists nodes with their addresses', async () => {
    const node = (await core.listNode()).items[0];
    expect(node?.status?.addresses).toEqual(expect.arrayContaining([
      { type: 'InternalIP', address: '10.0.0.11' },
      { type: 'ExternalIP', address: '192.0.2.10' },
    ]));
  });
});

describe('server-side apply and the simulated controllers', () => {
  it('creates a Deployment, then updates it, and a repeated apply changes nothing', async () => {
    const namespace = await freshNamespace();
    kube.resetRequests();
    const created = await apply(deployment(namespace, 'alpha', 'registry.example/alpha:1'));
    expect(created.metadata?.generation).toBe(1);
    const patch = kube.requests.find((r) => r.method === 'PATCH' && r.path.endsWith('/deployments/alpha'));
    expect(patch).toMatchObject({ contentType: 'application/apply-patch+yaml', query: { fieldManager: 'slipway', force: 'true' } });

    const updated = await apply(deployment(namespace, 'alpha', 'registry.example/alpha:2'));
    expect(updated.metadata?.uid).toBe(created.metadata?.uid);
    expect(updated.metadata?.generation).toBe(2);
    expect(updated.metadata?.managedFields?.map((m) => [m.manager, m.operation])).toEqual([['slipway', 'Apply']]);

    const again = await apply(deployment(namespace, 'alpha', 'registry.example/alpha:2'));
    expect(again.metadata?.generation).toBe(2);

    // no controller writes ConfigMaps, so an unchanged resourceVersion shows the apply wrote nothing
    const settings = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace }, data: { a: '1' } };
    const first = await apply(settings);
    const repeated = await apply(settings);
    expect(repeated.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
  });

  it('makes the Deployment available with a Ready pod, and replaces the pod on a template change', async () => {
    const namespace = await freshNamespace();
    await apply(deployment(namespace, 'beta', 'registry.example/beta:1'));
    const available = await waitFor('beta available', async () => {
      const d = await apps.readNamespacedDeployment({ namespace, name: 'beta' });
      return d.status?.availableReplicas === 1 ? d : undefined;
    });
    expect(available.status?.observedGeneration).toBe(1);
    expect(available.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('True');
    const [pod] = await podsOf(namespace, 'beta');
    expect(pod?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(pod?.metadata?.ownerReferences?.[0]?.kind).toBe('ReplicaSet');

    await apply(deployment(namespace, 'beta', 'registry.example/beta:2'));
    const replaced = await waitFor('new beta pod ready', async () => {
      const pods = await podsOf(namespace, 'beta');
      const ready = pods.length === 1 && pods[0]?.spec?.containers[0]?.image === 'registry.example/beta:2' &&
        pods[0].status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return ready ? pods[0] : undefined;
    });
    expect(replaced.metadata?.name).not.toBe(pod?.metadata?.name);
    const d = await waitFor('observed generation 2', async () => {
      const current = await apps.readNamespacedDeployment({ namespace, name: 'beta' });
      return current.status?.observedGeneration === 2 && current.status.availableReplicas === 1 ? current : undefined;
    });
    expect(d.status?.updatedReplicas).toBe(1);
  });

  it('gives NodePort Services unique node ports and keeps them on re-apply', async () => {
    const namespace = await freshNamespace();
    const service = (name: string): KubernetesObject & Record<string, unknown> => ({
      apiVersion: 'v1', kind: 'Service', metadata: { name, namespace },
      spec: { type: 'NodePort', selector: { app: name }, ports: [{ name: 'protobuf-api', port: 8061, targetPort: 8061 }, { name: 'webui', port: 8062, targetPort: 8062 }] },
    });
    await apply(service('one'));
    await apply(service('two'));
    const ports = async (name: string): Promise<number[]> =>
      ((await core.readNamespacedService({ namespace, name })).spec?.ports ?? []).map((p) => p.nodePort ?? 0);
    const first = await ports('one');
    const all = [...first, ...(await ports('two'))];
    for (const port of all) expect(port).toBeGreaterThanOrEqual(30000);
    for (const port of all) expect(port).toBeLessThanOrEqual(32767);
    expect(new Set(all).size).toBe(4);
    await apply(service('one'));
    expect(await ports('one')).toEqual(first);
    expect((await core.readNamespacedService({ namespace, name: 'one' })).spec?.clusterIP).toMatch(/^10\.96\./);
  });

  it('binds a PersistentVolumeClaim', async () => {
    const namespace = await freshNamespace();
    await apply({
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'pipeline', namespace },
      spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } },
    } as KubernetesObject);
    const bound = await waitFor('claim bound', async () => {
      const claim = await core.readNamespacedPersistentVolumeClaim({ namespace, name: 'pipeline' });
      return claim.status?.phase === 'Bound' ? claim : undefined;
    });
    expect(bound.spec?.volumeName).toMatch(/^pvc-/);
  });

  it('streams watch events for a collection', async () => {
    const namespace = await freshNamespace();
    const config = new KubeConfig();
    config.loadFromString(kube.kubeconfig);
    const seen: string[] = [];
    const controller = await new Watch(config).watch(`/api/v1/namespaces/${namespace}/configmaps`, {}, (type, object: KubernetesObject) => {
      seen.push(`${type} ${object.metadata?.name ?? ''}`);
    }, () => undefined);
    try {
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'settings' }, data: { a: '1' } } });
      await core.patchNamespacedConfigMap({ namespace, name: 'settings', body: [{ op: 'replace', path: '/data/a', value: '2' }] });
      await core.deleteNamespacedConfigMap({ namespace, name: 'settings' });
      await waitFor('three events', () => (seen.length >= 3 ? seen : undefined));
      expect(seen).toEqual(['ADDED settings', 'MODIFIED settings', 'DELETED settings']);
    } finally {
      controller.abort();
    }
  });

  it('resumes a watch from a list resourceVersion, replaying what happened since', async () => {
    const namespace = await freshNamespace();
    const listed = await core.listNamespacedConfigMap({ namespace });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'later' } } });
    const config = new KubeConfig();
    config.loadFromString(kube.kubeconfig);
    const seen: string[] = [];
    const controller = await new Watch(config).watch(`/api/v1/namespaces/${namespace}/configmaps`, { resourceVersion: listed.metadata?.resourceVersion }, (type, object: KubernetesObject) => {
      seen.push(`${type} ${object.metadata?.name ?? ''}`);
    }, () => undefined);
    try {
      await waitFor('replayed event', () => (seen.length >= 1 ? seen : undefined));
      expect(seen).toEqual(['ADDED later']);
    } finally {
      controller.abort();
    }
  });

  it('applies strategic and merge patches, and refuses stale updates and conflicting appliers', async () => {
    const namespace = await freshNamespace();
    await apply(deployment(namespace, 'eta', 'registry.example/eta:1'));
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'eta', namespace } };
    await objects.patch({ ...ref, spec: { template: { spec: { containers: [{ name: 'model', env: [{ name: 'A', value: '1' }] }] } } } } as KubernetesObject,
      undefined, undefined, 'kubectl', undefined, PatchStrategy.StrategicMergePatch);
    await objects.patch({ ...ref, metadata: { ...ref.metadata, labels: { extra: 'yes' } } }, undefined, undefined, 'kubectl', undefined, PatchStrategy.MergePatch);
    const patched = await apps.readNamespacedDeployment({ namespace, name: 'eta' });
    expect(patched.spec?.template.spec?.containers).toEqual([expect.objectContaining({ name: 'model', image: 'registry.example/eta:1', env: [{ name: 'A', value: '1' }] })]);
    expect(patched.metadata?.labels).toEqual({ app: 'eta', extra: 'yes' });

    const stale = { ...patched, metadata: { ...patched.metadata, resourceVersion: '1' } };
    const conflict = await apps.replaceNamespacedDeployment({ namespace, name: 'eta', body: stale }).catch((e: unknown) => e);
    expect(statusOf(conflict)).toMatchObject({ code: 409, reason: 'Conflict' });

    const rival = await objects.patch(deployment(namespace, 'eta', 'registry.example/eta:9'), undefined, undefined, 'rival', false, PatchStrategy.ServerSideApply).catch((e: unknown) => e);
    expect(statusOf(rival)).toMatchObject({ code: 409, reason: 'Conflict' });
    expect(statusOf(rival).message).toContain('conflict with "slipway"');
  });

  it('runs a Job to completion, calling the completion hook first, and serves its logs', async () => {
    const namespace = await freshNamespace();
    const removeHook = kube.onJobComplete((job, fake) => {
      if (job.metadata.name !== 'installer') return;
      fake.putObject({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'installer-output', namespace }, data: { token: Buffer.from('t0k').toString('base64') } });
    });
    kube.setJobLogs(namespace, 'installer', 'line 1\nline 2\nline 3\n');
    await apply({
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'installer', namespace },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'install', image: 'registry.example/installer:1' }] } } },
    } as KubernetesObject);
    const job = await waitFor('job complete', async () => {
      const current = await batch.readNamespacedJob({ namespace, name: 'installer' });
      return current.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ? current : undefined;
    });
    expect(job.status?.succeeded).toBe(1);
    expect((await core.readNamespacedSecret({ namespace, name: 'installer-output' })).data?.token).toBe(Buffer.from('t0k').toString('base64'));
    const [pod] = (await core.listNamespacedPod({ namespace, labelSelector: 'job-name=installer' })).items;
    const logs = await core.readNamespacedPodLog({ namespace, name: pod?.metadata?.name ?? '', tailLines: 2 });
    expect(logs).toBe('line 2\nline 3\n');
    removeHook();
  });
});

describe('custom resources, secrets and logs', () => {
  it('serves a custom kind once its CustomResourceDefinition is established', async () => {
    const namespace = await freshNamespace();
    await apply({
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'hosts.metal.example' },
      spec: {
        group: 'metal.example', scope: 'Namespaced',
        names: { kind: 'Host', plural: 'hosts', singular: 'host' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }],
      },
    } as KubernetesObject);
    await waitFor('crd established', () => {
      const crd = kube.getObject('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, 'hosts.metal.example');
      return JSON.stringify(crd?.status ?? {}).includes('Established') ? crd : undefined;
    });
    const host = { apiVersion: 'metal.example/v1', kind: 'Host', metadata: { name: 'rack-1', namespace }, spec: { bmc: 'redfish://10.0.0.5' } };
    await apply(host);
    const listed = await objects.list('metal.example/v1', 'Host', namespace);
    expect(listed.items.map((h) => [h.kind, h.metadata?.name])).toEqual([['Host', 'rack-1']]);
  });

  it('folds a Secret\'s stringData into data', async () => {
    const namespace = await freshNamespace();
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'creds' }, stringData: { password: 'hunter2' } } });
    const secret = await core.readNamespacedSecret({ namespace, name: 'creds' });
    expect(secret.data).toEqual({ password: Buffer.from('hunter2').toString('base64') });
    expect(secret.stringData).toBeUndefined();
    expect(secret.type).toBe('Opaque');
  });

  it('refuses logs of a container that never started', async () => {
    const namespace = await freshNamespace();
    const remove = kube.faults.imagePull('never-pulled');
    try {
      await apply(deployment(namespace, 'theta', 'registry.example/never-pulled:1'));
      const pod = await waitFor('theta pod', async () => (await podsOf(namespace, 'theta'))[0]);
      const refused = await core.readNamespacedPodLog({ namespace, name: pod.metadata?.name ?? '' }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ApiException);
      expect(refused instanceof ApiException ? refused.code : 0).toBe(400);
    } finally {
      remove();
    }
  });
});

describe('faults', () => {
  it('keeps pods of an image that cannot be pulled Pending, naming the image', async () => {
    const namespace = await freshNamespace();
    const remove = kube.faults.imagePull('no-such-image', 'manifest unknown');
    try {
      await apply(deployment(namespace, 'gamma', 'registry.example/no-such-image:9'));
      const waiting = await waitFor('pull failure', async () => {
        const [pod] = await podsOf(namespace, 'gamma');
        const state = pod?.status?.containerStatuses?.[0]?.state?.waiting;
        return state?.reason === 'ErrImagePull' || state?.reason === 'ImagePullBackOff' ? { pod, state } : undefined;
      });
      expect(waiting.pod?.status?.phase).toBe('Pending');
      expect(waiting.state.message).toContain('registry.example/no-such-image:9');
      const events = await eventsAbout(namespace, waiting.pod?.metadata?.name ?? '');
      expect(events.find((e) => e.reason === 'Failed')?.message).toContain('manifest unknown');
    } finally {
      remove();
    }
  });

  it('crash-loops containers with the last termination reason and a growing restart count', async () => {
    const namespace = await freshNamespace();
    const remove = kube.faults.crashLoop('crashy', { reason: 'OOMKilled', exitCode: 137 });
    try {
      await apply(deployment(namespace, 'delta', 'registry.example/crashy:1'));
      const status = await waitFor('crash loop', async () => {
        const [pod] = await podsOf(namespace, 'delta');
        const container = pod?.status?.containerStatuses?.[0];
        return container?.state?.waiting?.reason === 'CrashLoopBackOff' && (container.restartCount ?? 0) >= 2 ? { pod, container } : undefined;
      });
      expect(status.pod?.status?.phase).toBe('Running');
      expect(status.container.ready).toBe(false);
      expect(status.container.lastState?.terminated).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
      const events = await eventsAbout(namespace, status.pod?.metadata?.name ?? '');
      expect(events.some((e) => e.reason === 'BackOff')).toBe(true);
      const d = await apps.readNamespacedDeployment({ namespace, name: 'delta' });
      expect(d.status?.availableReplicas).toBeUndefined();
      expect(d.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('False');
    } finally {
      remove();
    }
  });

  it('leaves pods unschedulable with the scheduler message', async () => {
    const namespace = await freshNamespace();
    const message = '0/1 nodes are available: 1 Insufficient memory.';
    const remove = kube.faults.unschedulable('huge-model', message);
    try {
      await apply(deployment(namespace, 'epsilon', 'registry.example/huge-model:1'));
      const pod = await waitFor('unschedulable', async () => {
        const [p] = await podsOf(namespace, 'epsilon');
        return p?.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable') ? p : undefined;
      });
      expect(pod.status?.phase).toBe('Pending');
      expect(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', message });
      expect((await eventsAbout(namespace, pod.metadata?.name ?? '')).find((e) => e.reason === 'FailedScheduling')?.message).toBe(message);
    } finally {
      remove();
    }
  });

  it('keeps a claim Pending with a ProvisioningFailed event', async () => {
    const namespace = await freshNamespace();
    const message = 'storageclass.storage.k8s.io "no-rwx" not found';
    const remove = kube.faults.pvcPending(message, { storageClass: 'no-rwx' });
    try {
      await apply({
        apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'shared', namespace },
        spec: { accessModes: ['ReadWriteMany'], storageClassName: 'no-rwx', resources: { requests: { storage: '1Gi' } } },
      } as KubernetesObject);
      const event = await waitFor('provisioning failed', async () =>
        (await eventsAbout(namespace, 'shared')).find((e) => e.reason === 'ProvisioningFailed'));
      expect(event.message).toBe(message);
      expect((await core.readNamespacedPersistentVolumeClaim({ namespace, name: 'shared' })).status?.phase).toBe('Pending');
    } finally {
      remove();
    }
  });

  it('fails a Job with the given message, which its pod also prints', async () => {
    const namespace = await freshNamespace();
    const remove = kube.faults.jobFails('broken', 'helm: release failed');
    try {
      await apply({
        apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'broken-install', namespace },
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'install', image: 'registry.example/installer:1' }] } } },
      } as KubernetesObject);
      const job = await waitFor('job failed', async () => {
        const current = await batch.readNamespacedJob({ namespace, name: 'broken-install' });
        return current.status?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True') ? current : undefined;
      });
      expect(job.status?.failed).toBe(1);
      expect(job.status?.conditions?.find((c) => c.type === 'Failed')?.message).toBe('helm: release failed');
      const [pod] = (await core.listNamespacedPod({ namespace, labelSelector: 'job-name=broken-install' })).items;
      expect(pod?.status?.phase).toBe('Failed');
      expect(await core.readNamespacedPodLog({ namespace, name: pod?.metadata?.name ?? '' })).toContain('helm: release failed');
    } finally {
      remove();
    }
  });

  it('fails the next matching requests, then answers normally', async () => {
    const namespace = await freshNamespace();
    kube.faults.failRequests({ method: 'GET', pathIncludes: `/namespaces/${namespace}/configmaps`, status: 500, count: 1 });
    kube.faults.failRequests({ method: 'GET', pathIncludes: `/namespaces/${namespace}/secrets`, status: 429, count: 1, retryAfterSeconds: 2 });
    const first = await core.listNamespacedConfigMap({ namespace }).catch((error: unknown) => error);
    expect(statusOf(first)).toMatchObject({ code: 500, reason: 'InternalError' });
    expect((await core.listNamespacedConfigMap({ namespace })).items).toEqual([]);
    const throttled = await core.listNamespacedSecret({ namespace }).catch((error: unknown) => error);
    expect(statusOf(throttled).code).toBe(429);
    expect(throttled instanceof ApiException ? throttled.headers['retry-after'] : undefined).toBe('2');
    expect((await core.listNamespacedSecret({ namespace })).items).toEqual([]);
  });
});

describe('errors, selectors and deletion', () => {
  it('answers Status errors like the real server', async () => {
    const namespace = await freshNamespace();
    const body = { metadata: { name: 'dup' } };
    await core.createNamespacedConfigMap({ namespace, body });
    expect(statusOf(await core.createNamespacedConfigMap({ namespace, body }).catch((e: unknown) => e))).toMatchObject({ code: 409, reason: 'AlreadyExists' });
    // KubernetesObjectApi lower-cases the URL, so the invalid name is written lower-case here.
    const badName = await apply(deployment(namespace, 'bad_name', 'registry.example/x:1')).catch((e: unknown) => e);
    expect(statusOf(badName)).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(statusOf(badName).message).toContain('metadata.name: Invalid value: "bad_name"');
    const missingNamespace = await apply(deployment('no-such-namespace', 'x', 'registry.example/x:1')).catch((e: unknown) => e);
    expect(statusOf(missingNamespace)).toMatchObject({ code: 404, reason: 'NotFound', message: 'namespaces "no-such-namespace" not found' });
    const missing = await core.readNamespacedConfigMap({ namespace, name: 'nope' }).catch((e: unknown) => e);
    expect(statusOf(missing)).toMatchObject({ code: 404, message: 'configmaps "nope" not found' });
  });

  it('deletes a collection by label selector', async () => {
    const namespace = await freshNamespace();
    for (const [name, tier] of [['a', 'model'], ['b', 'model'], ['c', 'other']] as const) {
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name, labels: { tier } } } });
    }
    await core.deleteCollectionNamespacedConfigMap({ namespace, labelSelector: 'tier=model' });
    expect((await core.listNamespacedConfigMap({ namespace })).items.map((c) => c.metadata?.name)).toEqual(['c']);
  });

  it('terminates a namespace over a few ticks and removes everything in it', async () => {
    const namespace = await freshNamespace();
    await apply(deployment(namespace, 'zeta', 'registry.example/zeta:1'));
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'left' } } });
    await waitFor('zeta pod', async () => ((await podsOf(namespace, 'zeta')).length === 1 ? true : undefined));
    kube.setNamespaceDeletionTicks(20);
    try {
      const terminating = await core.deleteNamespace({ name: namespace });
      expect((terminating as { status?: { phase?: string } }).status?.phase).toBe('Terminating');
      const refused = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'late' } } }).catch((e: unknown) => e);
      expect(statusOf(refused)).toMatchObject({ code: 403, reason: 'Forbidden' });
      await waitFor('namespace gone', async () =>
        (await core.readNamespace({ name: namespace }).then(() => undefined, (e: unknown) => (statusOf(e).code === 404 ? true : undefined))));
    } finally {
      kube.setNamespaceDeletionTicks(3);
    }
    expect(kube.listObjects().filter((o) => o.metadata.namespace === namespace)).toEqual([]);
  });
});
