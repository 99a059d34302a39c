import request from 'supertest';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterClient } from '../../src/adapters/kubernetes/index.js';
import { createSecretBox, loadEncryptionKey } from '../../src/adapters/crypto/secret-box.js';
import { createSolutionSources } from '../../src/adapters/solution-source.js';
import { LiveMonitor } from '../../src/services/deployments/live-monitor.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { waitForDeployment } from '../support/deploy-helpers.js';
import { writeEchoModel } from '../support/cluster-helpers.js';

/**
 * Live watching shared by replicas: two monitors on one PostgreSQL (as two replicas would run
 * them) and the fake Kubernetes API server (a test double). A live deployment is watched by
 * exactly one of them; when that one goes away (its session and its advisory locks with it) the
 * other takes over at its next scan; an undeployed deployment is watched by none.
 */
let kube: FakeKube;
let stack: TestStack;
let token: string;

beforeAll(async () => {
  kube = await startFakeKube();
  // The stack's own monitor scans once at start (nothing is live then) and not again in this test.
  stack = await startTestStack({ LIVE_SCAN_INTERVAL: '1h' });
  token = await stack.token();
});

afterAll(async () => {
  await stack?.close();
  await kube?.close();
});

async function monitor(): Promise<LiveMonitor> {
  const config = stack.config;
  return new LiveMonitor({
    config, pool: stack.runtime.pool, queue: stack.runtime.queue,
    secretBox: createSecretBox(await loadEncryptionKey(config.encryptionKey, config.dataDir)),
    solutionSource: createSolutionSources(config).source,
    connectCluster: (kubeconfig) => createClusterClient(kubeconfig),
    log: pino({ level: 'silent' }),
  }, { scanMs: 3_600_000, recheckMs: 60_000 });
}

describe('live monitors on two replicas', () => {
  it('one watcher per live deployment, taken over when its replica goes, none after undeploy', async () => {
    const model = await writeEchoModel(stack);
    const created = await request(stack.runtime.app.server).post('/api/v1/deployments').set('authorization', token).send({ ...model, namespace: 'live-one', kubeconfig: kube.kubeconfig });
    const done = await waitForDeployment(stack, token, created.body.id);
    expect(done.status).toBe('succeeded');

    const a = await monitor();
    const b = await monitor();
    try {
      await a.scan();
      await b.scan();
      expect([a.watching(), b.watching()]).toEqual([[done.id], []]);
      await b.scan();
      expect(b.watching()).toEqual([]);
      // A's watcher reports what it sees.
      for (let i = 0; i < 100; i++) {
        const body = (await request(stack.runtime.app.server).get(`/api/v1/deployments/${done.id}`).set('authorization', token)).body as { health: { status: string } | null };
        if (body.health?.status === 'healthy') break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(((await request(stack.runtime.app.server).get(`/api/v1/deployments/${done.id}`).set('authorization', token)).body as { health: { status: string } | null }).health?.status).toBe('healthy');

      await a.stop();
      await b.scan();
      expect(b.watching()).toEqual([done.id]);

      const undeploy = await request(stack.runtime.app.server).delete(`/api/v1/deployments/${done.id}`).set('authorization', token);
      expect(undeploy.status).toBe(202);
      await waitForDeployment(stack, token, done.id);
      await b.scan();
      expect(b.watching()).toEqual([]);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
