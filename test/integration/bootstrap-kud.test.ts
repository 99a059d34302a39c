import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClusterClient, FIELD_MANAGER, type ClusterClient } from '../../src/adapters/kubernetes/index.js';
import { BootstrapFailedError } from '../../src/domain/bootstrap/errors.js';
import type { BootstrapHost } from '../../src/domain/bootstrap/hosts.js';
import { installerJobName } from '../../src/domain/bootstrap/labels.js';
import type { BootstrapRequest } from '../../src/domain/bootstrap/request.js';
import { parseKubeconfig } from '../../src/domain/kubeconfig.js';
import { runKudBootstrap, type KudBootstrapSettings } from '../../src/services/bootstrap/kud-engine.js';
import type { BootstrapReporter } from '../../src/services/bootstrap/shared.js';
import { startFakeKube, type FakeKube, type KubeObject } from '../support/fake-kube/index.js';

/**
 * The kud-job engine against the fake Kubernetes API server (a test double): the installer Job
 * runs one simulated pod that completes or fails (`faults.jobFails`); as the installer would, the
 * test's `onJobComplete` hook writes the admin.conf Secret — the fake's own kube config stands in
 * for the new cluster's.
 */

const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20, attempts: 3 };
const HOSTS: BootstrapHost[] = [
  { name: 'cp-1', address: '10.10.0.11', role: 'control-plane' },
  { name: 'node-1', address: '10.10.0.21', role: 'compute' },
  { name: 'node-2', address: '10.10.0.22', role: 'compute' },
];
const IMAGE = 'registry.example/kud/installer:2.4';

let fake: FakeKube;
let client: ClusterClient;
let counter = 0;

/** A recording reporter (a test double of the job context): steps and events in order. */
class RecordingReporter implements BootstrapReporter {
  readonly steps: Array<{ name: string; status: 'succeeded' | 'failed'; detail?: string }> = [];
  readonly events: Array<{ type: string; message: string; data?: unknown }> = [];
  readonly controller = new AbortController();
  readonly signal = this.controller.signal;

  async step<T>(name: string, fn: () => Promise<T>, detail?: (result: T) => string | undefined): Promise<T> {
    try {
      const result = await fn();
      this.steps.push({ name, status: 'succeeded', ...(detail?.(result) !== undefined ? { detail: detail(result) } : {}) });
      return result;
    } catch (error: unknown) {
      this.steps.push({ name, status: 'failed' });
      throw error;
    }
  }

  async event(type: string, message: string, data?: unknown): Promise<void> {
    this.events.push({ type, message, data });
  }
}

function request(name: string): BootstrapRequest {
  return { name, kubernetesVersion: 'v1.29.3', podSubnet: '10.233.64.0/18', serviceSubnet: '10.233.0.0/18', addons: ['sriov'], engine: 'kud-job' };
}

interface Scenario {
  namespace: string;
  cluster: string;
  jobId: string;
  jobName: string;
  settings: KudBootstrapSettings;
}

async function scenario(overrides: Partial<KudBootstrapSettings> = {}): Promise<Scenario> {
  counter += 1;
  const namespace = `bootstrap-${counter}`;
  const cluster = `edge-${counter}`;
  const jobId = `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`;
  await client.applyWaves([[{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } } as KubernetesObject]], { fieldManager: FIELD_MANAGER, concurrency: 1 });
  return {
    namespace, cluster, jobId, jobName: installerJobName(cluster, jobId),
    settings: { jobId, namespace, image: IMAGE, kubeconfig: { allowInsecure: false }, timeoutMs: 30_000, pollMs: 50, ...overrides },
  };
}

/** What the installer does at the end: the new cluster's admin.conf into `<cluster>-admin-conf`. */
function writeAdminConf(kube: FakeKube, job: KubeObject, text: string, key = 'admin.conf'): void {
  const cluster = job.metadata.labels?.['slipway.io/cluster'] ?? '';
  kube.putObject({
    apiVersion: 'v1', kind: 'Secret',
    metadata: { name: `${cluster}-admin-conf`, namespace: job.metadata.namespace },
    data: { [key]: Buffer.from(text, 'utf8').toString('base64') },
  });
}

beforeAll(async () => {
  fake = await startFakeKube();
  for (const kind of ['Role', 'RoleBinding']) {
    fake.registerResource({ group: 'rbac.authorization.k8s.io', version: 'v1', kind, plural: `${kind.toLowerCase()}s`, singular: kind.toLowerCase(), namespaced: true });
  }
  client = createClusterClient(parseKubeconfig(fake.kubeconfig, { allowInsecure: false }), { retry: FAST_RETRY, requestTimeoutMs: 10_000 });
});

let removeHook: (() => void) | undefined;
afterEach(() => {
  removeHook?.();
  removeHook = undefined;
  fake.faults.clear();
});

afterAll(async () => {
  client?.close();
  await fake?.close();
});

describe('runKudBootstrap', () => {
  it('applies the installer, follows the Job with its log, and returns the kube config the installer wrote', async () => {
    const s = await scenario({ sshPrivateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nsecret-key-material\n-----END OPENSSH PRIVATE KEY-----' });
    removeHook = fake.onJobComplete((job, kube) => writeAdminConf(kube, job, fake.kubeconfig));
    fake.setJobLogs(s.namespace, s.jobName, 'PLAY [k8s_cluster] ****\nTASK [kubernetes/master] ok\nPLAY RECAP\ncp-1 : ok=120 changed=40 unreachable=0 failed=0\n');
    const reporter = new RecordingReporter();

    const result = await runKudBootstrap(client, request(s.cluster), HOSTS, reporter, s.settings);

    expect(result.kubeconfig.server).toBe(fake.url);
    expect(result.kubeconfig.auth.kind).toBe('clientCert');
    expect(result.installerJob).toBe(s.jobName);
    expect(result.plan.addons).toEqual(['nfd', 'sriov']);
    expect(reporter.steps.map((step) => `${step.name}:${step.status}`)).toEqual(['plan cluster:succeeded', 'apply installer:succeeded', 'run installer:succeeded', 'read kube config:succeeded']);

    const job = fake.getObject('batch/v1', 'Job', s.namespace, s.jobName) as KubeObject & { spec: { backoffLimit: number } };
    expect(job.spec.backoffLimit).toBe(0);
    expect(job.metadata.labels?.['slipway.io/bootstrap-job']).toBe(s.jobId);
    expect(fake.getObject('v1', 'ConfigMap', s.namespace, `${s.jobName}-inventory`)).toBeDefined();
    expect(fake.getObject('v1', 'Secret', s.namespace, `${s.jobName}-ssh`)).toBeDefined();

    expect(reporter.events.filter((e) => e.type === 'bootstrap.installer').map((e) => e.message).at(-1)).toBe(`installer Job ${s.jobName}: succeeded`);
    const logged = reporter.events.filter((e) => e.type === 'bootstrap.log').map((e) => e.message).join('\n');
    expect(logged).toContain('TASK [kubernetes/master] ok');
    // Each line once, however many polls saw it.
    expect(logged.split('\n').filter((line) => line === 'TASK [kubernetes/master] ok')).toHaveLength(1);
    expect(JSON.stringify(reporter.events)).not.toContain('secret-key-material');
  });

  it('run again by the same job: nothing new applied, the finished Job is followed, same result', async () => {
    const s = await scenario();
    removeHook = fake.onJobComplete((job, kube) => writeAdminConf(kube, job, fake.kubeconfig));
    await runKudBootstrap(client, request(s.cluster), HOSTS, new RecordingReporter(), s.settings);
    const jobUid = fake.getObject('batch/v1', 'Job', s.namespace, s.jobName)?.metadata.uid;

    const again = await runKudBootstrap(client, request(s.cluster), HOSTS, new RecordingReporter(), s.settings);
    expect(again.kubeconfig.server).toBe(fake.url);
    expect(fake.getObject('batch/v1', 'Job', s.namespace, s.jobName)?.metadata.uid).toBe(jobUid);
    expect(fake.listObjects('Job').filter((j) => j.metadata.namespace === s.namespace)).toHaveLength(1);
  });

  it('a failed installer Job: the error carries the reason and the log tail', async () => {
    const s = await scenario();
    fake.faults.jobFails(s.jobName, 'TASK [kubernetes/preinstall : Stop if swap enabled] failed');
    const reporter = new RecordingReporter();

    const error = await runKudBootstrap(client, request(s.cluster), HOSTS, reporter, s.settings).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BootstrapFailedError);
    const failure = error as BootstrapFailedError;
    expect(failure.reason).toBe('installer_failed');
    expect(failure.code).toBe('bootstrap_installer_failed');
    expect(failure.message).toMatch(new RegExp(`^The installer Job ${s.jobName} failed \\(BackoffLimitExceeded: `));
    expect(failure.message).toContain('Last lines of its log:\nTASK [kubernetes/preinstall : Stop if swap enabled] failed');
    expect(failure.extra.logTail).toContain('Stop if swap enabled');
    expect(reporter.steps.at(-1)).toEqual({ name: 'run installer', status: 'failed' });
  });

  it('hosts the installer could not reach are named', async () => {
    const s = await scenario();
    fake.faults.jobFails(s.jobName, 'ansible-playbook exited with 4');
    fake.setJobLogs(s.namespace, s.jobName, [
      'TASK [bootstrap-os : Fetch /etc/os-release] ****',
      'fatal: [node-2]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect to the host via ssh: ssh: connect to host 10.10.0.22 port 22: No route to host", "unreachable": true}',
      'PLAY RECAP ****',
      'node-2                     : ok=0    changed=0    unreachable=1    failed=0    skipped=0',
      '',
    ].join('\n'));

    const error = await runKudBootstrap(client, request(s.cluster), HOSTS, new RecordingReporter(), s.settings).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BootstrapFailedError);
    const failure = error as BootstrapFailedError;
    expect(failure.reason).toBe('hosts_unreachable');
    expect(failure.message).toMatch(/^The installer could not reach node-2 over SSH/);
    expect(failure.message).toContain('No route to host');
    expect(failure.extra.unreachableHosts).toEqual(['node-2']);
  });

  it('the Job completed but the installer wrote no Secret: a clear error', async () => {
    const s = await scenario();
    const error = await runKudBootstrap(client, request(s.cluster), HOSTS, new RecordingReporter(), s.settings).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BootstrapFailedError);
    expect((error as BootstrapFailedError).reason).toBe('kubeconfig_missing');
    expect((error as BootstrapFailedError).message).toBe(
      `The installer Job ${s.jobName} completed but wrote no Secret ${s.namespace}/${s.cluster}-admin-conf: the installer must store the new cluster's admin.conf there (key admin.conf)`,
    );
  });

  it('a Secret under the wrong key, or with a kube config that runs a command, is refused', async () => {
    const s = await scenario();
    removeHook = fake.onJobComplete((job, kube) => writeAdminConf(kube, job, fake.kubeconfig, 'kubeconfig'));
    const wrongKey = await runKudBootstrap(client, request(s.cluster), HOSTS, new RecordingReporter(), s.settings).catch((e: unknown) => e);
    expect((wrongKey as BootstrapFailedError).message).toBe(`Secret ${s.namespace}/${s.cluster}-admin-conf has no key admin.conf (keys: kubeconfig)`);
    removeHook();

    const t = await scenario();
    const execKubeconfig = [
      'apiVersion: v1', 'kind: Config', 'current-context: c',
      'clusters: [{name: c, cluster: {server: "https://10.10.0.11:6443"}}]',
      'users: [{name: u, user: {exec: {command: /bin/sh, apiVersion: client.authentication.k8s.io/v1}}}]',
      'contexts: [{name: c, context: {cluster: c, user: u}}]',
    ].join('\n');
    removeHook = fake.onJobComplete((job, kube) => writeAdminConf(kube, job, execKubeconfig));
    const invalid = await runKudBootstrap(client, request(t.cluster), HOSTS, new RecordingReporter(), t.settings).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(BootstrapFailedError);
    expect((invalid as BootstrapFailedError).reason).toBe('kubeconfig_invalid');
    expect((invalid as BootstrapFailedError).message).toMatch(/users\[0\]\.user\.exec/);
  });

  it('gives up at the deadline when the installer never finishes', async () => {
    const s = await scenario({ timeoutMs: 300 });
    fake.faults.unschedulable('kud/installer', '0/1 nodes are available: 1 Insufficient cpu.');
    const error = await runKudBootstrap(client, request(s.cluster), HOSTS, new RecordingReporter(), s.settings).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BootstrapFailedError);
    expect((error as BootstrapFailedError).reason).toBe('timeout');
    expect((error as BootstrapFailedError).message).toMatch(new RegExp(`^The installer Job ${s.jobName} did not finish within 300 ms`));
  });

  it('stops waiting when the job is cancelled', async () => {
    const s = await scenario();
    fake.faults.unschedulable('kud/installer', '0/1 nodes are available: 1 Insufficient cpu.');
    const reporter = new RecordingReporter();
    const running = runKudBootstrap(client, request(s.cluster), HOSTS, reporter, s.settings);
    const cancelled = new Error('cancelled by the test');
    setTimeout(() => reporter.controller.abort(cancelled), 200);
    await expect(running).rejects.toBe(cancelled);
    expect(reporter.steps.at(-1)).toEqual({ name: 'run installer', status: 'failed' });
  });

  it('a scale-out runs the installer limited to the new worker and returns the cluster\'s kube config', async () => {
    const s = await scenario({ scaleOut: ['node-3'] });
    removeHook = fake.onJobComplete((job, kube) => writeAdminConf(kube, job, fake.kubeconfig));
    const grown = [...HOSTS, { name: 'node-3', address: '10.10.0.23', role: 'compute' as const }];
    const result = await runKudBootstrap(client, request(s.cluster), grown, new RecordingReporter(), s.settings);
    expect(result.kubeconfig.server).toBe(fake.url);
    const job = fake.getObject('batch/v1', 'Job', s.namespace, s.jobName) as KubeObject & { spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } } } };
    const env = Object.fromEntries(job.spec.template.spec.containers[0]?.env.map((e) => [e.name, e.value]) ?? []);
    expect(env).toMatchObject({ KUD_ACTION: 'scale', KUD_LIMIT: 'node-3' });
  });

  it('a scale-out of a control-plane node fails in the plan step', async () => {
    const s = await scenario({ scaleOut: ['cp-1'] });
    const reporter = new RecordingReporter();
    await expect(runKudBootstrap(client, request(s.cluster), HOSTS, reporter, s.settings)).rejects.toThrow(/cp-1 is a control-plane node/);
    expect(reporter.steps).toEqual([{ name: 'plan cluster', status: 'failed' }]);
  });

  it('an invalid request fails in the plan step and applies nothing', async () => {
    const s = await scenario();
    const reporter = new RecordingReporter();
    await expect(runKudBootstrap(client, { ...request(s.cluster), controlPlane: ['cp-1', 'node-1'] }, HOSTS, reporter, s.settings)).rejects.toThrow(/etcd needs an odd number/);
    expect(reporter.steps).toEqual([{ name: 'plan cluster', status: 'failed' }]);
    expect(fake.listObjects('Job').filter((j) => j.metadata.namespace === s.namespace)).toEqual([]);
  });
});
