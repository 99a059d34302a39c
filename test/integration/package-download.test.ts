import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLLOUT_JOB_HEADER } from '../../src/http/clusters/package-routes.js';
import { createDownloadSigner } from '../../src/services/packages/download-url.js';
import { waitForJob } from '../support/cluster-helpers.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { startTestStack, type TestStack } from '../support/stack.js';

/**
 * A package reaches a node with no credential but its link: a rollout through the whole service
 * (real PostgreSQL; the fake Kubernetes API server, a test double, completes the install Jobs),
 * then the link in the install Job's PACKAGE_SOURCES fetched with nothing else — and the real
 * package installer script (images/package-installer) run with the Job's environment against the
 * listening service, installing into a temporary HOST_ROOT. Expired, changed and non-GET links
 * are refused; the signature never reaches a log line.
 */
const SCRIPT = fileURLToPath(new URL('../../images/package-installer/install-packages.sh', import.meta.url));
const ENCRYPTION_KEY = Buffer.alloc(32, 7); // what startTestStack configures

let kube: FakeKube;
let stack: TestStack;
let token: string;
let baseUrl: string;
let clusterId: string;
let work: string;
let archive: Buffer;
let jobEnv: Record<string, string>;
const server = () => stack.runtime.app.server;

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function runInstaller(env: Record<string, string>, hostRoot: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, ...env, HOST_ROOT: hostRoot, DOWNLOAD_RETRIES: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'slipway-download-'));
  await mkdir(path.join(work, 'pkg', 'bin'), { recursive: true });
  await writeFile(path.join(work, 'pkg', 'bin', 'hello'), '#!/bin/sh\necho hello\n', { mode: 0o755 });
  const tar = spawnSync('tar', ['-czf', path.join(work, 'hello.tar.gz'), '-C', path.join(work, 'pkg'), 'bin'], { encoding: 'utf8' });
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
  archive = await readFile(path.join(work, 'hello.tar.gz'));

  kube = await startFakeKube({ nodes: [{ name: 'n1' }] });
  const port = await freePort();
  stack = await startTestStack({ PUBLIC_URL: `http://127.0.0.1:${port}`, BOOTSTRAP_POLL_INTERVAL: '50ms' });
  baseUrl = await stack.runtime.app.listen({ port, host: '127.0.0.1' });
  token = await stack.token();
  const registered = await request(server()).post('/api/v1/clusters').set('authorization', token).send({ name: 'edge', kubeconfig: kube.kubeconfig });
  expect(registered.status).toBe(201);
  clusterId = registered.body.id;
}, 60_000);

afterAll(async () => {
  await stack?.close();
  await kube?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('package download links', () => {
  it('completing an upload the last PATCH completed answers with the same rollout job', async () => {
    const sha256 = createHash('sha256').update(archive).digest('hex');
    const declared = await request(server()).post(`/api/v1/clusters/${clusterId}/packages`).set('authorization', token).send({ name: 'hello', version: '1.0', sha256, size: archive.length });
    expect(declared.status).toBe(201);
    const patched = await request(server()).patch(declared.headers.location ?? '').set('authorization', token).set('content-type', 'application/offset+octet-stream').set('upload-offset', '0').send(archive);
    expect(patched.status).toBe(204);
    const rolloutJobId = patched.headers[ROLLOUT_JOB_HEADER];
    expect(rolloutJobId).toMatch(/^[0-9a-f-]{36}$/);
    const completed = await request(server()).post(`${declared.headers.location ?? ''}/complete`).set('authorization', token).send();
    expect(completed.status).toBe(201);
    expect(completed.body).toMatchObject({ name: 'hello', version: '1.0', sha256, rolloutJobId });

    expect((await waitForJob(stack, token, rolloutJobId ?? '')).status).toBe('succeeded');
    const job = kube.listObjects('Job').find((j) => j.metadata.labels?.['slipway.io/rollout-job'] === rolloutJobId) as
      | { spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value: string }> }> } } } }
      | undefined;
    jobEnv = Object.fromEntries((job?.spec.template.spec.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
    expect(jobEnv.PACKAGES).toBe('hello=1.0');
  });

  it('is what the install Job gets: one cluster, package and version, expiring, good with no other credential', async () => {
    const [source] = JSON.parse(jobEnv.PACKAGE_SOURCES ?? '[]') as Array<{ name: string; version: string; url: string; sha256: string }>;
    const url = new URL(source?.url ?? '');
    expect(`${url.origin}${url.pathname}`).toBe(`${baseUrl}/api/v1/package-downloads/${clusterId}/hello/1.0`);
    expect(Number(url.searchParams.get('expires')) * 1000).toBeGreaterThan(Date.now() + 55 * 60_000);
    expect(Number(url.searchParams.get('expires')) * 1000).toBeLessThanOrEqual(Date.now() + 60 * 60_000);

    const fetched = await fetch(url);
    expect(fetched.status).toBe(200);
    expect(createHash('sha256').update(Buffer.from(await fetched.arrayBuffer())).digest('hex')).toBe(source?.sha256);

    const signature = url.searchParams.get('signature') ?? '';
    const changed = (mutate: (u: URL) => void): URL => {
      const copy = new URL(url);
      mutate(copy);
      return copy;
    };
    const refusals = [
      changed((u) => { u.pathname = u.pathname.replace('/1.0', '/2.0'); }),
      changed((u) => { u.pathname = u.pathname.replace(clusterId, '00000000-0000-4000-8000-000000000000'); }),
      changed((u) => { u.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 3600)); }),
      changed((u) => { u.searchParams.set('signature', `${signature.slice(0, -2)}AA`); }),
    ];
    for (const refused of refusals) {
      const answer = await fetch(refused);
      expect(answer.status, refused.toString()).toBe(403);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
    }
    const expired = createDownloadSigner(ENCRYPTION_KEY, { ttlMs: 3_600_000, basePath: '', now: () => Date.now() - 2 * 3_600_000 }).sign({ clusterId, name: 'hello', version: '1.0' });
    const late = await fetch(`${baseUrl}${expired}`);
    expect(late.status).toBe(403);
    expect(((await late.json()) as { detail: string }).detail).toMatch(/^This download link expired at /);
    // GET only: the same link with another method finds nothing.
    for (const method of ['HEAD', 'POST', 'PUT', 'DELETE']) expect((await fetch(url, { method })).status, method).toBe(404);
    expect((await fetch(`${url.origin}${url.pathname}`)).status).toBe(400);

    expect(stack.logs.some((line) => line.includes(signature))).toBe(false);
    expect(stack.logs.some((line) => line.includes('signature=[REDACTED]'))).toBe(true);
  });

  it('lets the real package installer script download, verify and install the package into a HOST_ROOT', async () => {
    const hostRoot = path.join(work, 'host');
    await mkdir(hostRoot);
    const run = await runInstaller(jobEnv, hostRoot);
    expect(run.output).toContain('hello=1.0: installed');
    expect(run.code).toBe(0);
    expect(await readFile(path.join(hostRoot, 'opt/slipway/packages/hello/1.0/bin/hello'), 'utf8')).toBe('#!/bin/sh\necho hello\n');
    expect(await readFile(path.join(hostRoot, 'var/lib/slipway/packages/hello'), 'utf8')).toContain('1.0');

    // An expired link: the script fails cleanly with Slipway's reason, never printing the signature.
    const expired = createDownloadSigner(ENCRYPTION_KEY, { ttlMs: 3_600_000, basePath: '', now: () => Date.now() - 2 * 3_600_000 }).sign({ clusterId, name: 'hello', version: '1.0' });
    const sha256 = createHash('sha256').update(archive).digest('hex');
    const otherRoot = path.join(work, 'host-2');
    await mkdir(otherRoot);
    const refused = await runInstaller({ PACKAGES: 'hello=1.0', PACKAGE_SOURCES: JSON.stringify([{ name: 'hello', version: '1.0', url: `${baseUrl}${expired}`, sha256 }]) }, otherRoot);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/^error: .*403/m);
    expect(refused.output).toContain('This download link expired at');
    expect(refused.output).not.toContain(new URL(`${baseUrl}${expired}`).searchParams.get('signature') ?? 'never');
    expect(spawnSync('find', [otherRoot, '-type', 'f'], { encoding: 'utf8' }).stdout).toBe('');
  });
});
