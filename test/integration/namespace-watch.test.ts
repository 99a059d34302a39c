import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterClient, type ClusterClient } from '../../src/adapters/kubernetes/index.js';
import { parseKubeconfig } from '../../src/domain/kubeconfig.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';

/**
 * The namespace watch behind readiness, against the fake Kubernetes API server (a test double
 * whose watches speak the real protocol: ADDED first without a resourceVersion, bookmarks, 410
 * Expired for a version too old) and its request faults.
 */
let kube: FakeKube;
let client: ClusterClient;

beforeAll(async () => {
  kube = await startFakeKube();
  client = createClusterClient(parseKubeconfig(kube.kubeconfig, { allowInsecure: false }));
});

afterAll(async () => {
  client?.close();
  await kube?.close();
});

const pod = (namespace: string, name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { containers: [{ name: 'c', image: 'registry.example.org/x:1' }] } });

async function settled(watch: ReturnType<ClusterClient['watchNamespace']>): Promise<void> {
  // The first events are the current objects (ADDED); take them until the watch is quiet.
  while ((await watch.next(300)) === 'changed');
}

describe('watchNamespace', () => {
  it('says when a Pod, a Deployment or a claim of the namespace changes, and only then', async () => {
    kube.putObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w1' } });
    const watch = client.watchNamespace('w1');
    try {
      await settled(watch);
      expect(await watch.next(300)).toBe('timeout');
      kube.putObject(pod('w1', 'a'));
      expect(await watch.next(5000)).toBe('changed');
      kube.putObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'elsewhere' } });
      kube.putObject(pod('elsewhere', 'b'));
      await settled(watch);
      kube.putObject({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c', namespace: 'w1' }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } });
      expect(await watch.next(5000)).toBe('changed');
      expect(watch.healthy()).toBe(true);
      expect(kube.requests.some((r) => r.method === 'GET' && r.path.includes('/namespaces/w1/pods') && r.query.watch === 'true')).toBe(true);
    } finally {
      watch.stop();
    }
  });

  it('a watch answered 410 starts afresh, and one that keeps failing turns unhealthy (the caller polls)', async () => {
    kube.putObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w2' } });
    const stop = kube.faults.failRequests({ pathIncludes: '/namespaces/w2/pods?watch=true', status: 410, count: 1 });
    const watch = client.watchNamespace('w2');
    try {
      await settled(watch);
      kube.putObject(pod('w2', 'after-gone'));
      expect(await watch.next(5000)).toBe('changed');
      expect(watch.healthy()).toBe(true);
    } finally {
      watch.stop();
      stop();
    }

    kube.putObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w3' } });
    const broken = kube.faults.failRequests({ pathIncludes: '/namespaces/w3/deployments?watch=true', status: 500, count: 1000 });
    const failing = client.watchNamespace('w3');
    try {
      for (let i = 0; i < 100 && failing.healthy(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(failing.healthy()).toBe(false);
    } finally {
      failing.stop();
      broken();
    }
  });
});
