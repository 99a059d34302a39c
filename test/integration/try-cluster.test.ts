import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.js';
import { startTryCluster, type TryCluster } from '../support/try-cluster.js';
import { waitForDeployment } from '../support/deploy-helpers.js';

/**
 * The way a new user tries Slipway without a cluster: `npm run try-cluster` (test doubles: the
 * fake API server and fake orchestrators on 127.0.0.1), then the bundled example pipeline deployed
 * through the form with that kube config. The service runs exactly as `npm start` builds it — no
 * adapter is swapped — so the orchestrator is reached the real way, at node address:node port.
 */
const EXAMPLE = { solutionId: 'slipway-example-pipeline', revisionId: '1.0.0' };

let stack: TestStack;
let cluster: TryCluster;

beforeAll(async () => {
  cluster = await startTryCluster({ tickMs: 50 });
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.close();
  await cluster?.close();
});

describe('trying Slipway against the pretend cluster', () => {
  it('deploys the example pipeline from the form to succeeded, orchestrator run and web UI links listed', async () => {
    const token = await stack.token();
    const response = await request(stack.runtime.app.server)
      .post('/deploy')
      .set('cookie', `Authorization=${token}`)
      .field('solutionId', EXAMPLE.solutionId)
      .field('revisionId', EXAMPLE.revisionId)
      .field('namespaceName', 'try-it')
      .attach('configFile', Buffer.from(cluster.kube.kubeconfig), 'kubeconfig.yaml');
    expect(response.status).toBe(303);
    const id = String(response.headers.location).split('/').pop() ?? '';
    const deployment = await waitForDeployment(stack, token, id);
    expect(deployment.error).toBeNull();
    expect(deployment.status).toBe('succeeded');
    expect(deployment.steps.find((step) => step.name === 'start orchestrator')?.status).toBe('succeeded');
    const webUis = deployment.services.filter((service) => service.webUiUrl !== undefined);
    expect(webUis.length).toBeGreaterThan(0);
    for (const service of webUis) expect(service.webUiUrl).toMatch(/^http:\/\/127\.0\.0\.1:3\d{4}$/);
    const orchestrator = [...cluster.orchestrators.entries()].find(([key]) => key.startsWith('try-it/'))?.[1];
    expect(orchestrator?.calls.map((call) => call.method)).toEqual(expect.arrayContaining(['get_status', 'initialize', 'run']));
    expect(orchestrator?.state()).not.toBe('not initialized');
  });

  it('npm run try-cluster writes a kube config (mode 0600) that the service accepts, and stops on SIGINT', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'slipway-try-'));
    const file = path.join(dir, 'try.kubeconfig');
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/try-cluster.ts', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const lines = readline.createInterface({ input: child.stdout });
      for await (const line of lines) if (line.startsWith('Ctrl-C')) break;
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const token = await stack.token();
      const response = await request(stack.runtime.app.server)
        .post('/api/v1/deployments')
        .set('authorization', token)
        .send({ ...EXAMPLE, namespace: 'from-script', kubeconfig: await readFile(file, 'utf8') });
      expect(response.status).toBe(202);
      expect((await waitForDeployment(stack, token, response.body.id)).status).toBe('succeeded');
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
