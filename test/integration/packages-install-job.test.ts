import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterClient, FIELD_MANAGER, type ClusterClient } from '../../src/adapters/kubernetes/index.js';
import { parseKubeconfig } from '../../src/domain/kubeconfig.js';
import { createJobInstaller, packageJobName, PackageInstallFailedError } from '../../src/services/packages/install-job.js';
import { planRollout } from '../../src/services/packages/rollout-plan.js';
import { rolloutPackages, type NodeRolloutResult } from '../../src/services/packages/rollout.js';
import { startFakeKube, type FakeKube, type KubeObject } from '../support/fake-kube/index.js';

/**
 * Package rollout on a "real" cluster: the fake Kubernetes API server (a test double) runs each
 * node's install Job as one simulated pod that completes, or fails when `faults.jobFails` says so.
 */

const NAMESPACE = 'slipway-system';
const JOB_ID = 'rollout-7';
let fake: FakeKube;
let client: ClusterClient;

beforeAll(async () => {
  fake = await startFakeKube({ nodes: [{ name: 'n1' }, { name: 'n2' }, { name: 'n3' }] });
  client = createClusterClient(parseKubeconfig(fake.kubeconfig, { allowInsecure: false }), { retry: { baseDelayMs: 5, maxDelayMs: 20, attempts: 3 } });
  await client.applyWaves([[{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } } as KubernetesObject]], { fieldManager: FIELD_MANAGER, concurrency: 1 });
});

afterAll(async () => {
  client?.close();
  await fake?.close();
});

describe('rollout with a Job per node', () => {
  it('installs what each node lacks; a failing node stops the rollout with its log tail', async () => {
    fake.faults.jobFails(packageJobName(JOB_ID, 'n2'), 'E: Unable to locate package qat-driver');
    const installer = createJobInstaller(client, {
      namespace: NAMESPACE, image: 'registry.example/pkg-installer:1', jobId: JOB_ID, timeoutMs: 20_000, pollMs: 20,
      sourceOf: (name, version) => ({ url: `https://slipway.example/packages/${name}/${version}`, sha256: '0'.repeat(64) }),
    });
    const plan = planRollout([
      { name: 'n1', installed: {} },
      { name: 'n2', installed: { 'nvidia-driver': '550.54' } },
      { name: 'n3', installed: {} },
    ], { 'nvidia-driver': '550.54', 'qat-driver': '1.7.2' }, 2);
    const seen: NodeRolloutResult[] = [];

    const outcome = await rolloutPackages(installer, plan, { concurrency: 2, onNode: (r) => { seen.push(r); } });

    expect(outcome.status).toBe('partially_failed');
    expect(outcome.nodes.map((n) => `${n.node}:${n.status}`)).toEqual(['n1:installed', 'n2:failed', 'n3:skipped']);
    expect(outcome.nodes[1]?.error).toMatch(/^Installing packages on n2 failed: BackoffLimitExceeded: E: Unable to locate package qat-driver/);
    const jobs = fake.listObjects('Job').filter((j) => j.metadata.namespace === NAMESPACE) as Array<KubeObject & { spec: { template: { spec: { nodeName: string; containers: Array<{ env: Array<{ name: string; value?: string }> }> } } } }>;
    expect(jobs.map((j) => j.spec.template.spec.nodeName).sort()).toEqual(['n1', 'n2']);
    const n2 = jobs.find((j) => j.spec.template.spec.nodeName === 'n2');
    expect(n2?.spec.template.spec.containers[0]?.env.find((e) => e.name === 'PACKAGES')?.value).toBe('qat-driver=1.7.2');
    expect(seen.map((r) => `${r.node}:${r.status}`)).toContain('n3:skipped');
  });

  it('the installer error carries the Job log tail', async () => {
    fake.faults.jobFails(packageJobName('rollout-8', 'n1'), 'dpkg: error processing archive');
    const installer = createJobInstaller(client, { namespace: NAMESPACE, image: 'pkg:1', jobId: 'rollout-8', timeoutMs: 20_000, pollMs: 20, sourceOf: () => ({ url: 'https://x/p', sha256: '0'.repeat(64) }) });
    const error = await installer('n1', { tool: '1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PackageInstallFailedError);
    expect((error as PackageInstallFailedError).extra.logTail).toContain('dpkg: error processing archive');
  });
});
