import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitForDeployment } from '../support/deploy-helpers.js';
import { hostBody, jobEvents, waitForJob, writeEchoModel } from '../support/cluster-helpers.js';
import { startFakeIronic, type FakeIronic } from '../support/ironic/fake-ironic.js';
import { attachControlPlane, realKubeUnavailable, type ControlPlane } from '../support/real-kube.js';
import { clusterApi } from '../support/real-kube-stand-ins.js';
import { SCRIPTED_IMAGE, scriptedPods, type ScriptedPods } from '../support/scripted-jobs.js';
import { startTestStack, type TestStack } from '../support/stack.js';

/**
 * The kud-job bootstrap engine on the real control plane: its ServiceAccount, Role, RoleBinding,
 * inventory ConfigMap and installer Job are created by the real apiserver, the real Job
 * controller makes the installer Pod and kwok runs it. The installer inside is played by the
 * test (test/support/scripted-jobs.ts, a test double): it writes its documented outputs — the
 * `<cluster>-admin-conf` Secret and its log — and ends the Pod. The "new cluster" is the same
 * control plane (the kube config the installer writes is its own). Hosts come from the Ironic
 * double.
 */
const unavailable = realKubeUnavailable();
if (unavailable && process.env.CI === 'true') throw new Error(`CI=true but the real control plane cannot run: ${unavailable}`);
if (unavailable) console.warn(`Skipping the real-control-plane bootstrap tests: ${unavailable}`);

const NAMESPACE = 'real-bootstrap';
const REQUEST = { kubernetesVersion: 'v1.29.3', podSubnet: '10.233.64.0/18', serviceSubnet: '10.233.0.0/18', addons: [] };

describe.runIf(!unavailable)('bootstrap through a real installer Job', () => {
  let plane: ControlPlane;
  let ironic: FakeIronic;
  let pods: ScriptedPods;
  let stack: TestStack;
  let token: string;
  const server = () => stack.runtime.app.server;

  beforeAll(async () => {
    plane = await attachControlPlane(inject('realKubeDir'));
    pods = scriptedPods(plane);
    ironic = await startFakeIronic();
    stack = await startTestStack({
      IRONIC_URL: ironic.url, IRONIC_POLL_INTERVAL: '100ms',
      BOOTSTRAP_KUBECONFIG: plane.kubeconfigFile, BOOTSTRAP_NAMESPACE: NAMESPACE, KUD_INSTALLER_IMAGE: SCRIPTED_IMAGE,
      BOOTSTRAP_POLL_INTERVAL: '100ms', BOOTSTRAP_TIMEOUT: '2m',
    });
    token = await stack.token();
    await request(server()).post('/api/v1/sites').set('authorization', token).send({ name: 'real' }).expect(201);
    for (const host of [hostBody('cp-1', 1, { role: 'control-plane' }), hostBody('node-1', 2), hostBody('node-2', 3)]) {
      await request(server()).post('/api/v1/sites/real/hosts').set('authorization', token).send(host).expect(201);
    }
    const provisioning = await request(server()).post('/api/v1/sites/real/provisioning-jobs').set('authorization', token).send({});
    expect((await waitForJob(stack, token, provisioning.body.id)).status).toBe('succeeded');
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    await ironic?.close();
    await plane?.kubectl(['delete', 'namespace', NAMESPACE, '--ignore-not-found', '--wait=false']).catch(() => undefined);
  });

  /** Waits for the bootstrap job's installer Pod; returns it and the job's id. */
  async function installerPod(jobId: string) {
    const [pod] = await pods.running(NAMESPACE, `slipway.io/bootstrap-job=${jobId}`, 1);
    if (pod === undefined) throw new Error('no installer Pod');
    return pod;
  }

  it('the installer Job runs for real; its Secret registers the cluster, and a solution deploys to it by clusterId', async () => {
    const started = await request(server()).post('/api/v1/sites/real/clusters').set('authorization', token).send({ name: 'real-a', ...REQUEST });
    expect(started.status).toBe(202);
    const jobId: string = started.body.job.id;
    const pod = await installerPod(jobId);
    expect(pod.spec?.containers[0]?.image).toBe(SCRIPTED_IMAGE);
    // The Pod runs under the ServiceAccount Slipway made, allowed by its Role to write the Secret.
    expect(pod.spec?.serviceAccountName).toBeTruthy();

    // What the installer does at its end: the new cluster's admin.conf into <cluster>-admin-conf.
    await clusterApi(plane.kubeconfig).createNamespacedSecret({
      namespace: NAMESPACE,
      body: { metadata: { name: 'real-a-admin-conf' }, data: { 'admin.conf': Buffer.from(plane.kubeconfig).toString('base64') } },
    });
    await pods.finish(pod, 0, ['PLAY RECAP *****', 'cp-1 : ok=120 changed=40 unreachable=0 failed=0']);

    const job = await waitForJob(stack, token, jobId, 120_000);
    expect(job.error).toBeNull();
    expect(job.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['plan cluster:succeeded', 'apply installer:succeeded', 'run installer:succeeded', 'read kube config:succeeded', 'register cluster:succeeded']);
    const installerJob = JSON.parse(await plane.kubectl(['get', 'job', '-n', NAMESPACE, '-l', `slipway.io/bootstrap-job=${jobId}`, '-o', 'json'])) as { items: Array<{ status: { conditions?: Array<{ type: string; status: string }> } }> };
    expect(installerJob.items).toHaveLength(1);
    expect(installerJob.items[0]?.status.conditions?.find((c) => c.type === 'Complete')?.status).toBe('True');
    const logged = (await jobEvents(stack, jobId)).filter((e) => e.type === 'bootstrap.log').map((e) => e.message).join('\n');
    expect(logged).toContain('cp-1 : ok=120 changed=40 unreachable=0 failed=0');

    const cluster = await request(server()).get(`/api/v1/clusters/${started.body.cluster.id}`).set('authorization', token);
    expect(cluster.body).toMatchObject({ status: 'ready', server: plane.server, origin: 'bootstrapped' });
    const model = await writeEchoModel(stack);
    const deploy = await request(server()).post('/api/v1/deployments').set('authorization', token).send({ ...model, namespace: 'on-real-a', clusterId: started.body.cluster.id });
    expect(deploy.status).toBe(202);
    expect((await waitForDeployment(stack, token, deploy.body.id)).status).toBe('succeeded');
    expect(await plane.kubectl(['get', 'deployment', 'echo', '-n', 'on-real-a', '-o', 'jsonpath={.status.availableReplicas}'])).toBe('1');
  });

  it('an installer that exits non-zero fails the job with its log tail as the reason', async () => {
    const started = await request(server()).post('/api/v1/sites/real/clusters').set('authorization', token).send({ name: 'real-fail', controlPlane: ['cp-1'], workers: ['node-1'], ...REQUEST });
    expect(started.status).toBe(202);
    const pod = await installerPod(started.body.job.id);
    await pods.finish(pod, 2, ['TASK [kubernetes/preinstall : Stop if swap enabled] ****', 'fatal: [cp-1]: FAILED! => {"msg": "Swap is enabled on cp-1"}']);

    const job = await waitForJob(stack, token, started.body.job.id, 120_000);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('bootstrap_installer_failed');
    expect(job.error?.message).toContain('BackoffLimitExceeded');
    expect(job.error?.message).toContain('Last lines of its log:');
    expect(job.error?.message).toContain('fatal: [cp-1]: FAILED! => {"msg": "Swap is enabled on cp-1"}');
    const cluster = await request(server()).get(`/api/v1/clusters/${started.body.cluster.id}`).set('authorization', token);
    expect(cluster.body.status).toBe('failed');
  });
});
