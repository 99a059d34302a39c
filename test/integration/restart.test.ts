import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { createTestDatabase } from '../support/db.js';
import { TEST_JWT_SECRET } from '../support/stack.js';
import { freePort } from '../../src/adapters/db/embedded.js';
import { signDevToken } from '../../src/http/auth/dev-token.js';
import { decodeJwtSecret } from '../../src/http/auth/secret.js';

/**
 * Survives restarts: a real Slipway process (started as `npm start` starts it) is killed with
 * SIGKILL in the middle of a deploy and started again. The deploy is resumed by the new process
 * once the dead worker's lease runs out, and ends `succeeded`; nothing stays `running`.
 */
const ROOT = new URL('../../', import.meta.url).pathname;

let kube: FakeKube;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let dataDir: string;
let port: number;
let token: string;
const children: ChildProcess[] = [];

function startService(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      JWT_SECRET: TEST_JWT_SECRET,
      ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
      SOLUTION_SOURCE: 'local',
      SOLUTIONS_DIR: path.join(dataDir, 'solutions'),
      PORT: String(port),
      HOST: '127.0.0.1',
      JOB_LEASE_SECONDS: '2',
      DEPLOY_TIMEOUT: '60s',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  return child;
}

async function waitHealthy(): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the service did not become healthy');
}

async function readDeployment(id: string): Promise<{ status: string; steps: Array<{ name: string; status: string }> }> {
  const response = await fetch(`http://127.0.0.1:${port}/api/v1/deployments/${id}`, { headers: { authorization: token } });
  return (await response.json()) as { status: string; steps: Array<{ name: string; status: string }> };
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  kube = await startFakeKube();
  database = await createTestDatabase();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'slipway-restart-'));
  const model = path.join(dataDir, 'solutions', 'echo-model', '1');
  await mkdir(model, { recursive: true });
  await writeFile(path.join(model, 'solution.json'), JSON.stringify({ name: 'Echo Model', kind: 'model', containerName: 'echo', image: 'registry.example.org/echo:1' }));
  port = await freePort();
  token = await signDevToken(decodeJwtSecret(TEST_JWT_SECRET, 'base64'), { email: 'ada@example.org' });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await kube?.close();
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('a service killed in the middle of a deploy', () => {
  it('resumes the deploy after a restart and finishes it', async () => {
    kube.faults.imagePull('echo:1', 'registry is slow today');
    const first = startService();
    await waitHealthy();
    const created = await fetch(`http://127.0.0.1:${port}/api/v1/deployments`, {
      method: 'POST',
      headers: { authorization: token, 'content-type': 'application/json' },
      body: JSON.stringify({ solutionId: 'echo-model', revisionId: '1', namespace: 'restart', kubeconfig: kube.kubeconfig }),
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    await until(() => readDeployment(id), (d) => d.steps.some((s) => s.name === 'wait for readiness' && s.status === 'running'), 30_000);

    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    kube.faults.clear();

    startService();
    await waitHealthy();
    const done = await until(() => readDeployment(id), (d) => ['succeeded', 'failed', 'cancelled'].includes(d.status), 60_000);
    expect(done.status).toBe('succeeded');

    const job = await fetch(`http://127.0.0.1:${port}/api/v1/jobs/${(done as { jobId?: string }).jobId ?? ''}`, { headers: { authorization: token } }).then((r) => r.json() as Promise<{ attempts: number; status: string }>);
    expect(job.status).toBe('succeeded');
    expect(job.attempts).toBeGreaterThanOrEqual(2);
    const objects = kube.listObjects('Deployment').filter((o) => o.metadata.namespace === 'restart');
    expect(objects.map((o) => o.metadata.name)).toEqual(['echo']);
  });
});
