import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { BatchV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLLOUT_JOB_HEADER } from '../../src/http/clusters/package-routes.js';
import { jobEvents, waitForJob, type JobBody } from '../support/cluster-helpers.js';
import { realKubeUnavailable, startControlPlane, type ControlPlane } from '../support/real-kube.js';
import { SCRIPTED_IMAGE, scriptedPods, type ScriptedPods } from '../support/scripted-jobs.js';
import { startTestStack, type TestStack } from '../support/stack.js';

/**
 * Package rollouts judged by the real control plane: 25 kwok Nodes, ROLLOUT_BATCH_SIZE=10, one
 * install Job per node created through the real apiserver and run by the real Job controller.
 * The installer inside each Pod is played by the test (test/support/scripted-jobs.ts, a test
 * double): it decides when and how each Pod ends, so the batches can be read off the apiserver.
 */
const unavailable = realKubeUnavailable();
if (unavailable && process.env.CI === 'true') throw new Error(`CI=true but the real control plane cannot run: ${unavailable}`);
if (unavailable) console.warn(`Skipping the real-control-plane package rollout tests: ${unavailable}`);

const NAMESPACE = 'slipway-system';
const NODES = 25;
const BATCH = 10;
const nodeName = (i: number) => `kwok-node-${i}`;
const nodeOf = (pod: V1Pod) => pod.spec?.nodeName ?? '';

describe.runIf(!unavailable)('package rollouts on real Jobs and Nodes', () => {
  let dir: string;
  let plane: ControlPlane;
  let pods: ScriptedPods;
  let stack: TestStack;
  let token: string;
  let clusterId: string;
  const server = () => stack.runtime.app.server;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'slipway-kube-packages-'));
    plane = await startControlPlane(dir, { nodes: NODES });
    pods = scriptedPods(plane);
    stack = await startTestStack({
      PACKAGE_INSTALLER_IMAGE: SCRIPTED_IMAGE, ROLLOUT_BATCH_SIZE: String(BATCH), BOOTSTRAP_POLL_INTERVAL: '100ms',
      PACKAGE_SYNC_INTERVAL: '300ms', PACKAGE_INSTALL_TIMEOUT: '2m',
    });
    token = await stack.token();
    const created = await request(server()).post('/api/v1/clusters').set('authorization', token).send({ name: 'kwok-25', kubeconfig: plane.kubeconfig });
    expect(created.status).toBe(201);
    clusterId = created.body.id;
  }, 240_000);

  afterAll(async () => {
    await stack?.close();
    await plane?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function upload(name: string, version: string): Promise<string> {
    const bytes = randomBytes(300);
    const declared = await request(server()).post(`/api/v1/clusters/${clusterId}/packages`).set('authorization', token)
      .send({ name, version, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length });
    expect(declared.status).toBe(201);
    const patched = await request(server()).patch(declared.headers.location ?? '').set('authorization', token)
      .set('content-type', 'application/offset+octet-stream').set('upload-offset', '0').send(bytes);
    expect(patched.status).toBe(204);
    return patched.headers[ROLLOUT_JOB_HEADER] ?? '';
  }

  /**
   * Plays every installer of the rollout, batch by batch as the job planned them: waits until
   * every Job of the batch runs — checking, each time it reads the apiserver, that no Job of a
   * later batch exists — then ends them one at a time. Returns the batches seen running together.
   */
  async function playRollout(jobId: string, exitCodeOf: (node: string) => number = () => 0): Promise<{ job: JobBody; batchesSeen: string[][] }> {
    const selector = `slipway.io/rollout-job=${jobId}`;
    let planned: string[][] | undefined;
    for (let i = 0; planned === undefined; i++) {
      const plan = (await jobEvents(stack, jobId)).find((e) => e.type === 'rollout.plan');
      planned = (plan?.data as { batches: Array<Array<{ node: string }>> } | undefined)?.batches.map((b) => b.map((n) => n.node));
      if (planned === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
      if (i > 600) throw new Error(`rollout ${jobId} made no plan`);
    }
    const batchesSeen: string[][] = [];
    for (const [index, batch] of planned.entries()) {
      const later = new Set(planned.slice(index + 1).flat());
      let running: V1Pod[] = [];
      for (let i = 0; ; i++) {
        const all = await pods.list(NAMESPACE, selector);
        expect(all.filter((pod) => later.has(nodeOf(pod))).map(nodeOf)).toEqual([]);
        running = all.filter((pod) => batch.includes(nodeOf(pod)) && pod.status?.phase === 'Running');
        if (running.length === batch.length) break;
        const job = (await request(server()).get(`/api/v1/jobs/${jobId}`).set('authorization', token)).body as JobBody;
        if (!['queued', 'running'].includes(job.status)) return { job: await waitForJob(stack, token, jobId), batchesSeen };
        if (i > 600) throw new Error(`batch ${index} of rollout ${jobId}: ${running.length} of ${batch.length} Jobs running`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      batchesSeen.push(running.map(nodeOf).sort());
      for (const pod of running) {
        const code = exitCodeOf(nodeOf(pod));
        await pods.finish(pod, code, code === 0 ? [] : [`dpkg: error processing archive on ${nodeOf(pod)}`, 'E: Sub-process /usr/bin/dpkg returned an error code (1)']);
      }
    }
    return { job: await waitForJob(stack, token, jobId), batchesSeen };
  }

  it('installs on all 25 Nodes through real Jobs in batches of at most 10', async () => {
    const jobId = await upload('tool', '1.0');
    const { job, batchesSeen } = await playRollout(jobId);
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    // Each batch's Jobs ran together, none of a later batch existed meanwhile.
    expect(batchesSeen.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batchesSeen.flat().sort()).toEqual(Array.from({ length: NODES }, (_, i) => nodeName(i)).sort());
    const jobs = await clusterApiBatch(plane).listNamespacedJob({ namespace: NAMESPACE, labelSelector: `slipway.io/rollout-job=${jobId}` });
    expect(jobs.items).toHaveLength(NODES);
    for (const j of jobs.items) expect(j.status?.conditions?.find((c) => c.type === 'Complete')?.status).toBe('True');
    const result = job.result as { nodes: Array<{ node: string; batch: number; status: string }> };
    expect(new Set(result.nodes.map((n) => n.batch))).toEqual(new Set([0, 1, 2]));
    for (let b = 0; b < 3; b++) expect(result.nodes.filter((n) => n.batch === b).length).toBeLessThanOrEqual(BATCH);
  });

  let failedNode = '';
  it('a failed node stops the rollout after its batch, named with its log tail', async () => {
    const jobId = await upload('agent', '2.0');
    let first = '';
    const { job, batchesSeen } = await playRollout(jobId, (node) => {
      if (first === '') first = node;
      return node === first ? 3 : 0;
    });
    failedNode = first;
    expect(job.status).toBe('partially_failed');
    expect(job.error?.code).toBe('nodes_failed');
    expect(job.error?.message).toContain(`${failedNode}: Installing packages on ${failedNode} failed`);
    const result = job.result as { nodes: Array<{ node: string; status: string; error?: string }> };
    expect(result.nodes.filter((n) => n.status === 'installed')).toHaveLength(BATCH - 1);
    expect(result.nodes.filter((n) => n.status === 'skipped')).toHaveLength(NODES - BATCH);
    expect(result.nodes.find((n) => n.node === failedNode)?.error).toContain(`dpkg: error processing archive on ${failedNode}`);
    // Only the first batch's Jobs were ever created.
    expect(batchesSeen.map((b) => b.length)).toEqual([BATCH]);
    const jobs = await clusterApiBatch(plane).listNamespacedJob({ namespace: NAMESPACE, labelSelector: `slipway.io/rollout-job=${jobId}` });
    expect(jobs.items).toHaveLength(BATCH);
    expect(jobs.items.find((j) => j.metadata?.labels?.['slipway.io/node'] === failedNode)?.status?.conditions?.find((c) => c.type === 'Failed')?.reason).toBe('BackoffLimitExceeded');
  });

  it('rolled out again, the current packages go only to the nodes that differ', async () => {
    const started = await request(server()).post(`/api/v1/clusters/${clusterId}/package-rollouts`).set('authorization', token).send({});
    expect(started.status).toBe(202);
    const again = await request(server()).post(`/api/v1/clusters/${clusterId}/package-rollouts`).set('authorization', token).send({});
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('rollout_in_progress');
    const { job, batchesSeen } = await playRollout(started.body.id);
    expect(job.status).toBe('succeeded');
    // The failed node and the 15 skipped ones, not the 9 that have agent 2.0.
    expect(batchesSeen.map((b) => b.length)).toEqual([10, 6]);
    expect(batchesSeen.flat()).toContain(failedNode);
    const plan = (await jobEvents(stack, job.id)).find((e) => e.type === 'rollout.plan');
    expect(plan?.message).toContain(`${NODES - BATCH + 1} of ${NODES} node(s) need packages`);
    const envOf = async (node: string) => {
      const [pod] = (await pods.list(NAMESPACE, `slipway.io/rollout-job=${job.id},slipway.io/node=${node}`));
      return pod?.spec?.containers[0]?.env?.find((e) => e.name === 'PACKAGES')?.value;
    };
    expect(await envOf(failedNode)).toBe('agent=2.0');
  });

  it('a Node added later gets the current packages by itself', async () => {
    const template = await readFile(path.resolve('tools/kube/examples/node.yaml'), 'utf8');
    await plane.kubectl(['apply', '-f', '-'], template.replaceAll('kwok-node-0', 'late-node').replaceAll('zone-0', 'zone-late'));
    const selector = 'slipway.io/node=late-node';
    const [pod] = await pods.running(NAMESPACE, selector, 1);
    const jobId = pod?.metadata?.labels?.['slipway.io/rollout-job'] ?? '';
    expect(pod?.spec?.containers[0]?.env?.find((e) => e.name === 'PACKAGES')?.value).toBe('agent=2.0 tool=1.0');
    await pods.finish(pod as V1Pod, 0);
    const { rows } = await stack.runtime.pool.query<{ id: string }>(`SELECT id FROM jobs WHERE kind = 'package-rollout' AND subject_id = $1 AND input->>'reason' LIKE 'new node%' ORDER BY created_at`, [clusterId]);
    expect(rows.map((r) => r.id.slice(0, 63))).toEqual([jobId]);
    const job = await waitForJob(stack, token, rows[0]?.id ?? '');
    expect(job.status).toBe('succeeded');
    expect((job.result as { nodes: Array<{ node: string }> }).nodes.map((n) => n.node)).toEqual(['late-node']);
    // Seen once, rolled out once: the next rounds start nothing more.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = await stack.runtime.pool.query(`SELECT id FROM jobs WHERE kind = 'package-rollout' AND subject_id = $1`, [clusterId]);
    expect(after.rows).toHaveLength(4);
  });
});

function clusterApiBatch(plane: ControlPlane): BatchV1Api {
  const config = new KubeConfig();
  config.loadFromString(plane.kubeconfig);
  return config.makeApiClient(BatchV1Api);
}
