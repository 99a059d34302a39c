import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKube, type FakeKube, type KubeObject } from '../support/fake-kube/index.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { waitForDeployment } from '../support/deploy-helpers.js';
import { writeEchoModel } from '../support/cluster-helpers.js';
import { createClusterClient } from '../../src/adapters/kubernetes/index.js';
import { parseKubeconfig } from '../../src/domain/kubeconfig.js';

/**
 * The preflight against the fake Kubernetes API server (a test double: its SelfSubjectAccessReviews
 * answer what `faults.denyAccess` says, its ResourceQuotas carry the status the test writes). The
 * real control plane's own RBAC and admission are in real-kube-deploy.test.ts.
 */
const EXAMPLE = { solutionId: 'slipway-example-pipeline', revisionId: '1.0.0' };

let kube: FakeKube;
let stack: TestStack;
let token: string;
const server = () => stack.runtime.app.server;
let counter = 0;
const fresh = (prefix: string) => `${prefix}-${++counter}`;

beforeAll(async () => {
  kube = await startFakeKube();
  stack = await startTestStack({ IMAGE_PULL_SECRET: 'registry-pull' });
  token = await stack.token();
});

afterEach(() => kube.faults.clear());

afterAll(async () => {
  await stack?.close();
  await kube?.close();
});

async function dryRun(body: Record<string, unknown>) {
  const response = await request(server()).post('/api/v1/deployments?dryRun=true').set('authorization', token).send({ kubeconfig: kube.kubeconfig, ...body });
  expect(response.status).toBe(200);
  return response.body as { passed: boolean; checks: Array<{ name: string; status: string; detail: string }>; plan?: Record<string, Array<{ kind: string; name: string; fields?: string[] }>> };
}

const check = (result: { checks: Array<{ name: string; status: string; detail: string }> }, name: string) => result.checks.find((c) => c.name === name);

function namespaceWithPullSecret(name: string): void {
  kube.putObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  kube.putObject({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'registry-pull', namespace: name }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from('{}').toString('base64') } } as KubeObject);
}

describe('preflight', () => {
  it('a dry run of a new namespace: everything would be created, nothing is written, nothing is stored', async () => {
    const namespace = fresh('new');
    const before = kube.listObjects().length;
    const result = await dryRun({ ...EXAMPLE, namespace });
    expect(check(result, 'api server')?.detail).toContain('answers, Kubernetes v');
    expect(check(result, 'permissions')?.status).toBe('passed');
    expect(check(result, 'namespace')).toMatchObject({ status: 'passed', detail: `Namespace ${namespace} does not exist; the deploy creates it` });
    expect(check(result, 'shared folder storage')).toMatchObject({ status: 'warning' });
    expect(check(result, 'shared folder storage')?.detail).toContain('The default StorageClass standard');
    // The pull secret cannot be in a namespace that is not there yet.
    expect(check(result, 'pull secret')?.status).toBe('failed');
    expect(check(result, 'orchestrator protos')?.status).toBe('passed');
    expect(result.passed).toBe(false);
    expect(result.plan?.create?.map((e) => e.kind)).toContain('Deployment');
    expect(result.plan?.create?.[0]).toEqual({ kind: 'Namespace', name: namespace });
    expect(kube.listObjects().length).toBe(before);
    expect((await stack.runtime.pool.query('SELECT id FROM deployments WHERE namespace = $1', [namespace])).rows).toEqual([]);
  });

  it('a kube config that may not create Deployments: the deploy fails in preflight naming it, nothing is written', async () => {
    const namespace = fresh('denied');
    namespaceWithPullSecret(namespace);
    kube.faults.denyAccess({ verb: 'create', resource: 'deployments', namespace });
    const dry = await dryRun({ ...EXAMPLE, namespace });
    expect(dry.passed).toBe(false);
    expect(check(dry, 'permissions')).toMatchObject({ status: 'failed' });
    expect(check(dry, 'permissions')?.detail).toMatch(new RegExp(`^This kube config may not create deployments\\.apps in namespace ${namespace}:`));

    const response = await request(server()).post('/api/v1/deployments').set('authorization', token).send({ ...EXAMPLE, namespace, kubeconfig: kube.kubeconfig });
    expect(response.status).toBe(202);
    const done = await waitForDeployment(stack, token, response.body.id);
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('preflight_failed');
    expect(done.error?.message).toContain(`permissions: This kube config may not create deployments.apps in namespace ${namespace}`);
    expect(done.preflight?.passed).toBe(false);
    expect(done.steps.find((s) => s.name === 'preflight')?.status).toBe('failed');
    expect(done.steps.find((s) => s.name === 'apply')?.status).not.toBe('succeeded');
    expect(kube.listObjects().filter((o) => o.metadata.namespace === namespace && o.kind !== 'Secret')).toEqual([]);
  });

  it('a Terminating namespace, a missing pull secret, a configured storage class that is not there: each fails, named', async () => {
    const namespace = fresh('terminating');
    kube.putObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    kube.setNamespaceDeletionTicks(1_000_000);
    const client = createClusterClient(parseKubeconfig(kube.kubeconfig, { allowInsecure: false }));
    await client.deleteNamespace(namespace);
    client.close();
    const terminating = await dryRun({ ...EXAMPLE, namespace });
    kube.setNamespaceDeletionTicks(3);
    expect(check(terminating, 'namespace')).toMatchObject({ status: 'failed' });
    expect(check(terminating, 'namespace')?.detail).toContain('is being deleted (Terminating)');

    const bare = fresh('bare');
    kube.putObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: bare } });
    const noSecret = await dryRun({ ...EXAMPLE, namespace: bare });
    expect(check(noSecret, 'pull secret')).toMatchObject({ status: 'failed', detail: `Secret registry-pull (IMAGE_PULL_SECRET) does not exist in namespace ${bare}: the pods could not pull their images` });
    expect(check(noSecret, 'server-side dry run')?.status).toBe('passed');

    const other = await startTestStack({ SHARED_FOLDER_STORAGE_CLASS: 'nfs-rwx' });
    try {
      const otherToken = await other.token();
      const response = await request(other.runtime.app.server).post('/api/v1/deployments?dryRun=true').set('authorization', otherToken).send({ ...EXAMPLE, namespace: bare, kubeconfig: kube.kubeconfig });
      const storage = (response.body as { checks: Array<{ name: string; status: string; detail: string }> }).checks.find((c) => c.name === 'shared folder storage');
      expect(storage).toMatchObject({ status: 'failed', detail: 'StorageClass nfs-rwx (SHARED_FOLDER_STORAGE_CLASS) does not exist on this cluster; it has standard' });
    } finally {
      await other.close();
    }
  });

  it('a ResourceQuota without room for the pods fails, naming the quota; one that limits cpu warns', async () => {
    const namespace = fresh('quota');
    namespaceWithPullSecret(namespace);
    kube.putObject({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'small', namespace }, spec: { hard: { pods: '2' } }, status: { hard: { pods: '2' }, used: { pods: '1' } } } as KubeObject);
    const tight = await dryRun({ ...EXAMPLE, namespace });
    expect(check(tight, 'resource quota')?.status).toBe('failed');
    expect(check(tight, 'resource quota')?.detail).toMatch(/^Not enough quota in namespace quota-\d+: small: pods 1 used of 2, the deploy adds \d+$/);

    const cpu = fresh('cpu');
    namespaceWithPullSecret(cpu);
    kube.putObject({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'compute', namespace: cpu }, spec: { hard: { 'requests.cpu': '4' } }, status: { hard: { 'requests.cpu': '4' }, used: { 'requests.cpu': '0' } } } as KubeObject);
    const warned = await dryRun({ ...EXAMPLE, namespace: cpu });
    expect(check(warned, 'resource quota')).toMatchObject({ status: 'warning' });
    expect(check(warned, 'resource quota')?.detail).toContain('compute limits requests.cpu');
  });

  it('a model (no orchestrator) into a namespace that has it already: the plan says unchanged, the protos are not checked', async () => {
    const model = await writeEchoModel(stack);
    const namespace = fresh('again');
    namespaceWithPullSecret(namespace);
    const first = await request(server()).post('/api/v1/deployments').set('authorization', token).send({ ...model, namespace, kubeconfig: kube.kubeconfig });
    const done = await waitForDeployment(stack, token, first.body.id);
    expect(done.status).toBe('succeeded');
    expect(done.preflight?.plan?.create.map((e) => `${e.kind}/${e.name}`).sort()).toEqual(['Deployment/echo', 'Service/echo']);
    const again = await dryRun({ ...model, namespace });
    expect(again.passed).toBe(true);
    expect(check(again, 'orchestrator protos')).toBeUndefined();
    expect(again.plan?.unchanged?.map((e) => `${e.kind}/${e.name}`).sort()).toEqual(['Deployment/echo', 'Service/echo']);
    expect(again.plan?.create).toEqual([]);
    expect(again.plan?.update).toEqual([]);
  });

  it('Check first on the Graphene form shows every check and the plan, and writes nothing', async () => {
    const namespace = fresh('form');
    const page = await request(server()).post('/deploy').set('cookie', `Authorization=${token}`)
      .field('solutionId', EXAMPLE.solutionId).field('revisionId', EXAMPLE.revisionId).field('namespaceName', namespace).field('action', 'check')
      .attach('configFile', Buffer.from(kube.kubeconfig), 'kubeconfig.yaml');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<tr data-check="permissions"><td>permissions</td><td class="check-passed" data-status="passed">passed</td>');
    expect(page.text).toContain(`<tr data-plan="create"><td>create</td><td>Namespace/${namespace}</td>`);
    expect(page.text).toContain('Nothing was written to the cluster.');
    expect(kube.getObject('v1', 'Namespace', undefined, namespace)).toBeUndefined();
    const form = await request(server()).get(`/deploy/${EXAMPLE.solutionId}/${EXAMPLE.revisionId}`).set('cookie', `Authorization=${token}`);
    expect(form.text).toContain('<button type="submit" name="action" value="check" class="secondary">Check first</button>');
  });
});
