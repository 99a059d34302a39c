import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import type { TestStack } from './stack.js';

/** Helpers of the cluster, bootstrap and rollout tests: jobs read through HTTP, events from the job's log. */
export interface JobBody {
  id: string;
  kind: string;
  status: string;
  parentId: string | null;
  result: Record<string, unknown> | null;
  error: { code: string; message: string; details?: Record<string, unknown> } | null;
  steps: Array<{ name: string; status: string; detail: string | null }>;
}

export async function waitForJob(stack: TestStack, token: string, id: string, timeoutMs = 45_000): Promise<JobBody> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const response = await request(stack.runtime.app.server).get(`/api/v1/jobs/${id}`).set('authorization', token);
    const body = response.body as JobBody;
    if (['succeeded', 'failed', 'partially_failed', 'cancelled'].includes(body.status)) return body;
    if (Date.now() > until) throw new Error(`job ${id} is still ${body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The job's event log (what its SSE stream sends), oldest first. */
export async function jobEvents(stack: TestStack, jobId: string): Promise<Array<{ type: string; message: string; data: unknown }>> {
  const { rows } = await stack.runtime.pool.query<{ type: string; message: string; data: unknown }>('SELECT type, message, data FROM job_events WHERE job_id = $1 ORDER BY id', [jobId]);
  return rows;
}

/** A single-container model in the local solution source: deploys without an orchestrator. */
export async function writeEchoModel(stack: TestStack): Promise<{ solutionId: string; revisionId: string }> {
  const dir = path.join(stack.config.solutionsDir, 'echo-model', '1');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'solution.json'), JSON.stringify({ name: 'Echo Model', kind: 'model', containerName: 'echo', image: 'registry.example.org/echo:1' }));
  return { solutionId: 'echo-model', revisionId: '1' };
}

export const TEST_IMAGE = { url: 'http://images.test/ubuntu-22.04.qcow2', checksum: 'c'.repeat(64), checksumType: 'sha256', format: 'qcow2' } as const;

/** A host of the Ironic double; `ip` becomes its network data's address (none: no address). */
export function hostBody(name: string, index: number, options: { role?: string; ip?: string | null; labels?: Record<string, string> } = {}) {
  const octet = index.toString(16).padStart(2, '0');
  const ip = options.ip === undefined ? `10.20.0.${10 + index}` : options.ip;
  return {
    name,
    role: options.role ?? 'compute',
    bmc: { address: `fake://${name}`, username: 'admin', password: 'bmc-pass' },
    bootMacAddress: `52:54:00:00:07:${octet}`,
    image: TEST_IMAGE,
    networkData: ip === null ? { links: [] } : { links: [{ id: 'eth0', type: 'phy' }], networks: [{ id: 'net0', type: 'ipv4', link: 'eth0', ip_address: ip, netmask: '255.255.255.0' }] },
    ...(options.labels ? { labels: options.labels } : {}),
  };
}
