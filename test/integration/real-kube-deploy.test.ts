import { appendFile, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { attachControlPlane, realKubeUnavailable, type ControlPlane } from '../support/real-kube.js';
import { startClusterStandIns, type ClusterStandIns } from '../support/real-kube-stand-ins.js';
import { cdsEnvironment, startFakeCds, type FakeCds } from '../support/fake-cds.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { waitForDeployment, type DeploymentBody } from '../support/deploy-helpers.js';
import { createClusterClient } from '../../src/adapters/kubernetes/index.js';
import { parseKubeconfig } from '../../src/domain/kubeconfig.js';

/**
 * The deploy path judged by the real Kubernetes control plane (test/support/real-kube.ts:
 * kube-apiserver with RBAC and the default admission plugins, controller manager, scheduler,
 * etcd; kwok plays the kubelets of three Nodes at 127.0.0.1). Test doubles, each saying so: the
 * fake CDS/Nexus serving Graphene's fixture solutions, the fake orchestrator at the node port the
 * real apiserver allocated, and a stand-in provisioner making the shared folder's volume. Slipway
 * itself runs exactly as `npm start` builds it: orchestrators are reached at node address:node port.
 */
const EXAMPLE = { solutionId: 'slipway-example-pipeline', revisionId: '1.0.0' };
const FIXTURES = {
  sudoku: { solutionId: '00aff3ab-94cb-4969-93c3-a95be53c05d2', revisionId: '2f7c7ef1-262c-4a73-8393-aef1ded7cad3' },
  'shared-folder': { solutionId: 'b979dabb-b461-47ae-8459-37b3f4be8851', revisionId: 'efe8ef3d-0d79-4347-abd7-c675411e9b50' },
  simple: { solutionId: 'e3794e16-0225-4bf1-a99c-b99638a22232', revisionId: '7220ac2a-a908-46df-a58d-bad87bbbad23' },
};

/** A chain of models named `names` (by default what the apply benchmark deploys): `<solution>/1`. */
async function writeChain(dir: string, solution: string, names: readonly string[]): Promise<void> {
  const nodes = names.length;
  const folder = path.join(dir, solution, '1');
  await mkdir(path.join(folder, 'microservice'), { recursive: true });
  await writeFile(path.join(folder, 'solution.json'), JSON.stringify({ name: solution, kind: 'pipeline' }));
  await writeFile(path.join(folder, 'blueprint.json'), JSON.stringify({
    name: solution, version: '1', input_ports: [], probeIndicator: [{ value: 'false' }],
    nodes: names.map((name, i) => ({
      container_name: name, node_type: 'MLModel', image: `registry.example.org/${solution}/m${i}:1`, proto_uri: `org/acumos/${solution}/m${i}/1/m${i}-1.proto`,
      operation_signature_list: [{ operation_signature: { operation_name: 'step', input_message_name: 'Data', output_message_name: 'Data' }, connected_to: i + 1 < nodes ? [{ container_name: names[i + 1], operation_signature: { operation_name: 'step' } }] : [] }],
    })),
  }));
  for (const name of names) await writeFile(path.join(folder, 'microservice', `${name}.proto`), 'syntax = "proto3";\nmessage Data { string text = 1; }\nservice Model { rpc step(Data) returns (Data); }\n');
}

/** The example again as 2.0.0 without its word counter and with a new text-source image: a new revision drops a node and changes one. */
async function writeSecondRevision(dir: string): Promise<void> {
  const source = new URL('../../examples/solutions/slipway-example-pipeline/1.0.0/', import.meta.url).pathname;
  const folder = path.join(dir, 'slipway-example-pipeline', '2.0.0');
  await cp(source, folder, { recursive: true });
  const blueprint = JSON.parse(await readFile(path.join(folder, 'blueprint.json'), 'utf8')) as { nodes: Array<{ container_name: string; operation_signature_list: Array<{ connected_to: Array<{ container_name: string }> }> }> };
  blueprint.nodes = blueprint.nodes.filter((n) => n.container_name !== 'word-counter1');
  for (const node of blueprint.nodes) for (const op of node.operation_signature_list ?? []) op.connected_to = op.connected_to.filter((c) => c.container_name !== 'word-counter1');
  await writeFile(path.join(folder, 'blueprint.json'), JSON.stringify(blueprint).replace('text-source:1.0.0', 'text-source:2.0.0'));
  await rm(path.join(folder, 'microservice', 'word-counter1.proto'));
}

/** Names the unit tests of domain/names throw at the renderer: long, colliding once folded, odd characters, reserved. */
const ODD_NAMES = ['Model A', 'model-a', 'MODEL_A', `${'a'.repeat(70)}1`, `${'a'.repeat(70)}2`, 'ünïcödé', '1st.model', 'Orchestrator', 'ends-with-dash-', 'K\u212Aelvin'];

const unavailable = realKubeUnavailable();
if (unavailable && process.env.CI === 'true') throw new Error(`CI=true but the real control plane cannot run: ${unavailable}`);
if (unavailable) console.warn(`Skipping the real-control-plane tests: ${unavailable}`);

describe.runIf(!unavailable)('deploys judged by the real Kubernetes control plane', () => {
  let plane: ControlPlane;
  let standIns: ClusterStandIns;
  let cds: FakeCds;
  let stack: TestStack;
  let token: string;
  const server = () => stack.runtime.app.server;

  async function deploy(ids: { solutionId: string; revisionId: string }, namespace: string, kubeconfig = plane.kubeconfig): Promise<DeploymentBody> {
    const response = await request(server()).post('/api/v1/deployments').set('authorization', token).send({ ...ids, namespace, kubeconfig });
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    return waitForDeployment(stack, token, String(response.body.id), undefined, 90_000);
  }

  const objects = async (namespace: string, kinds = 'deployments,services,persistentvolumeclaims'): Promise<Array<{ kind: string; metadata: { name: string; resourceVersion: string } }>> =>
    (JSON.parse(await plane.kubectl(['get', kinds, '-n', namespace, '-o', 'json'])) as { items: Array<{ kind: string; metadata: { name: string; resourceVersion: string } }> }).items;

  beforeAll(async () => {
    // The run's control plane (global setup): every request may meet GOAWAY (chance 0.02, the
    // apiserver's maximum), so the HTTP/2 transport must reconnect and carry on.
    plane = await attachControlPlane(inject('realKubeDir'));
    standIns = startClusterStandIns(plane.kubeconfig);
    cds = await startFakeCds();
    stack = await startTestStack({ ...cdsEnvironment(cds), DEPLOY_TIMEOUT: '60s', LIVE_SCAN_INTERVAL: '200ms' });
    // A model whose image no registry has: kwok's Stage for `*.invalid/` images reports ErrImagePull.
    const unpullable = path.join(stack.config.solutionsDir, 'unpullable-model', '1');
    await mkdir(unpullable, { recursive: true });
    await writeFile(path.join(unpullable, 'solution.json'), JSON.stringify({ name: 'Unpullable Model', kind: 'model', containerName: 'echo', image: 'registry.invalid/echo:1' }));
    // A model whose container crash-loops: kwok's Stage for `*/crash-loop` images.
    const crashing = path.join(stack.config.solutionsDir, 'crashing-model', '1');
    await mkdir(crashing, { recursive: true });
    await writeFile(path.join(crashing, 'solution.json'), JSON.stringify({ name: 'Crashing Model', kind: 'model', containerName: 'echo', image: 'registry.example.org/crash-loop:1' }));
    await writeChain(stack.config.solutionsDir, 'big-pipeline', Array.from({ length: 50 }, (_, i) => `model-${i + 1}`));
    await writeChain(stack.config.solutionsDir, 'odd-names', ODD_NAMES);
    await writeSecondRevision(stack.config.solutionsDir);
    token = await stack.token();
  }, 600_000);

  afterAll(async () => {
    await stack?.close();
    await standIns?.close();
    await cds?.close();
  }, 120_000);

  it('deploys the bundled example and the three Graphene fixtures to succeeded: orchestrator run, services and web UI links listed', async () => {
    for (const [namespace, ids] of [['example', EXAMPLE], ...Object.entries(FIXTURES)] as const) {
      const done = await deploy(ids, namespace);
      expect(done.error, namespace).toBeNull();
      expect(done.status, namespace).toBe('succeeded');
      // A pipeline's orchestrator is initialised and run; `simple` is a single model, without one.
      if (namespace !== 'simple') {
        expect(done.steps.find((step) => step.name === 'start orchestrator')?.status, namespace).toBe('succeeded');
        const orchestrator = [...standIns.orchestrators.entries()].find(([key]) => key.startsWith(`${namespace}/`))?.[1];
        expect(orchestrator?.calls.map((call) => call.method), namespace).toEqual(expect.arrayContaining(['get_status', 'initialize', 'run']));
      }
      const deployments = JSON.parse(await plane.kubectl(['get', 'deployments', '-n', namespace, '-o', 'json'])) as { items: Array<{ metadata: { name: string }; status: { availableReplicas?: number } }> };
      expect(deployments.items.length, namespace).toBeGreaterThan(0);
      for (const d of deployments.items) expect(d.status.availableReplicas, `${namespace}/${d.metadata.name}`).toBe(1);
      for (const service of done.services.filter((s) => s.webUiUrl !== undefined)) expect(service.webUiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    }
  }, 400_000);

  it('a re-deploy of the same revision changes nothing: every resourceVersion stays, no pod restarts', async () => {
    const state = async () => {
      const listed = await objects('example');
      const pods = (JSON.parse(await plane.kubectl(['get', 'pods', '-n', 'example', '-o', 'json'])) as { items: Array<{ metadata: { uid: string } }> }).items;
      return { objects: listed.map((o) => `${o.kind}/${o.metadata.name}@${o.metadata.resourceVersion}`).sort(), pods: pods.map((p) => p.metadata.uid).sort() };
    };
    const before = await state();
    const again = await deploy(EXAMPLE, 'example');
    expect(again.status).toBe('succeeded');
    expect(await state()).toEqual(before);
  }, 200_000);

  it("a node's pod logs come from the apiserver's pods/log (kwok's log simulation)", async () => {
    const deployments = (await request(server()).get('/api/v1/deployments?namespace=example').set('authorization', token)).body.items as Array<{ id: string }>;
    await appendFile(path.join(plane.dir, 'kwok/clusters/slipway/pod-logs.log'), '2026-12-04T10:00:00Z stdout F counted 42 words\n');
    const logs = await request(server()).get(`/api/v1/deployments/${deployments[0]?.id ?? ''}/logs?node=word-counter1`).set('authorization', token);
    expect(logs.status, JSON.stringify(logs.body)).toBe(200);
    expect(logs.body.node).toBe('word-counter1');
    expect(logs.body.pods[0]?.text).toContain('counted 42 words');
  }, 60_000);

  it('a dry run of the second revision writes nothing and plans the prune of the dropped node and the changed image', async () => {
    const before = await objects('example');
    const dry = await request(server()).post('/api/v1/deployments?dryRun=true').set('authorization', token)
      .send({ solutionId: EXAMPLE.solutionId, revisionId: '2.0.0', namespace: 'example', kubeconfig: plane.kubeconfig });
    expect(dry.status).toBe(200);
    expect(dry.body.passed).toBe(true);
    expect(dry.body.checks.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['api server', 'permissions', 'namespace', 'shared folder storage', 'server-side dry run', 'orchestrator protos']));
    expect(dry.body.checks.find((c: { name: string }) => c.name === 'api server').detail).toMatch(/Kubernetes v1\.34\./);
    const entries = (list: Array<{ kind: string; name: string }>) => list.map((e) => `${e.kind}/${e.name}`).sort();
    expect(entries(dry.body.plan.prune)).toEqual(['Deployment/word-counter1', 'Service/word-counter1']);
    const source = dry.body.plan.update.find((e: { kind: string; name: string }) => e.kind === 'Deployment' && e.name === 'text-source1');
    expect(source?.fields).toContain('spec.template.spec.containers[0].image');
    expect(dry.body.plan.create).toEqual([]);
    // Nothing was written: every object as it was, and no deployment recorded.
    expect((await objects('example')).map((o) => `${o.kind}/${o.metadata.name}@${o.metadata.resourceVersion}`).sort()).toEqual(before.map((o) => `${o.kind}/${o.metadata.name}@${o.metadata.resourceVersion}`).sort());
    const { rows } = await stack.runtime.pool.query(`SELECT id FROM deployments WHERE revision_id = '2.0.0'`);
    expect(rows).toEqual([]);
  }, 60_000);

  it('a second revision is applied in place and prunes the node it no longer has; rollback restores it', async () => {
    const v2 = await deploy({ solutionId: EXAMPLE.solutionId, revisionId: '2.0.0' }, 'example');
    expect(v2.preflight?.plan?.prune.map((e) => `${e.kind}/${e.name}`).sort()).toEqual(['Deployment/word-counter1', 'Service/word-counter1']);
    expect(v2.status).toBe('succeeded');
    const names = async () => (await objects('example', 'deployments')).map((o) => o.metadata.name).sort();
    expect(await names()).not.toContain('word-counter1');
    const back = await request(server()).post(`/api/v1/deployments/${v2.id}/rollback`).set('authorization', token).send({ revisionId: '1.0.0' });
    expect(back.status).toBe(202);
    expect((await waitForDeployment(stack, token, back.body.id, undefined, 90_000)).status).toBe('succeeded');
    expect(await names()).toContain('word-counter1');
  }, 200_000);

  it('deploys a 50-node pipeline while the apiserver sends GOAWAY at random: the HTTP/2 transport reconnects', async () => {
    const done = await deploy({ solutionId: 'big-pipeline', revisionId: '1' }, 'big');
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    expect((await objects('big', 'deployments')).length).toBe(51);
  }, 300_000);

  it('the real apiserver accepts every name the renderer makes of long, colliding and odd container names', async () => {
    const done = await deploy({ solutionId: 'odd-names', revisionId: '1' }, 'odd-names');
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    const kubeNames = done.services.filter((s) => s.role === 'node').map((s) => s.kubeName);
    expect(new Set(kubeNames).size).toBe(ODD_NAMES.length);
    expect(done.services.filter((s) => s.role === 'node').map((s) => s.name).sort()).toEqual([...ODD_NAMES].sort());
    expect((await objects('odd-names', 'deployments')).map((o) => o.metadata.name).sort()).toEqual([...kubeNames, 'orchestrator'].sort());
  }, 200_000);

  it('undeploy removes everything, and the namespace Slipway created goes through the real namespace controller', async () => {
    const created = await deploy(FIXTURES.simple, 'to-remove');
    expect(created.status).toBe('succeeded');
    const undeploy = await request(server()).delete(`/api/v1/deployments/${created.id}`).set('authorization', token);
    expect(undeploy.status).toBe(202);
    const gone = await waitForDeployment(stack, token, created.id, (d) => d.status === 'deleted' || d.status === 'failed', 120_000);
    expect(gone.status).toBe('deleted');
    const namespaces = JSON.parse(await plane.kubectl(['get', 'namespaces', '-o', 'json'])) as { items: Array<{ metadata: { name: string } }> };
    expect(namespaces.items.map((n) => n.metadata.name)).not.toContain('to-remove');
  }, 200_000);

  it('an image that cannot be pulled fails the deploy with the waiting reason kwok reports as a kubelet would', async () => {
    const failed = await deploy({ solutionId: 'unpullable-model', revisionId: '1' }, 'unpullable');
    expect(failed.status).toBe('failed');
    expect(JSON.stringify(failed.error)).toMatch(/ErrImagePull|ImagePullBackOff/);
    expect(JSON.stringify(failed.error)).toContain('registry.invalid/echo:1');
  }, 200_000);

  it('a container that crash-loops fails the deploy with CrashLoopBackOff and its restart count', async () => {
    const failed = await deploy({ solutionId: 'crashing-model', revisionId: '1' }, 'crashing');
    expect(failed.status).toBe('failed');
    const text = JSON.stringify(failed.error);
    expect(text).toContain('CrashLoopBackOff');
    expect(text).toMatch(/5 restarts|restarted 5|restartCount.?5|5 times/);
  }, 200_000);

  it('a kube config allowed one namespace only: a deploy elsewhere fails naming what the apiserver forbade, nothing half-applied', async () => {
    await plane.kubectl(['create', 'namespace', 'allowed']);
    await plane.kubectl(['create', 'namespace', 'elsewhere']);
    await plane.kubectl(['create', 'rolebinding', 'alice-admin', '--clusterrole=admin', '--user=alice', '-n', 'allowed']);
    const alice = await plane.kubeconfigFor('alice', ['slipway-test-users']);
    const refused = await deploy(FIXTURES.simple, 'elsewhere', alice);
    expect(refused.status).toBe('failed');
    // The preflight asks the apiserver (SelfSubjectAccessReviews) before anything is written.
    expect(refused.error?.code).toBe('preflight_failed');
    expect(refused.error?.message).toContain('This kube config may not get services in namespace elsewhere, create services in namespace elsewhere');
    expect(refused.error?.message).toContain('create deployments.apps in namespace elsewhere');
    expect(refused.steps.find((s) => s.name === 'apply')?.status).not.toBe('succeeded');
    expect(await objects('elsewhere')).toEqual([]);
    // The same kube config in its own namespace works.
    expect((await deploy(FIXTURES.simple, 'allowed', alice)).status).toBe('succeeded');
  }, 200_000);

  it('a ServiceAccount that may do everything but create Deployments: the preflight names create deployments.apps, the cluster holds nothing new', async () => {
    await plane.kubectl(['create', 'namespace', 'limited']);
    await plane.kubectl(['create', 'serviceaccount', 'deployer', '-n', 'limited']);
    await plane.kubectl(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'no-deployments', namespace: 'limited' },
      rules: [
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'patch', 'delete'] },
        { apiGroups: [''], resources: ['services', 'persistentvolumeclaims', 'configmaps', 'secrets', 'pods', 'pods/log', 'events'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
      ],
    }));
    await plane.kubectl(['create', 'rolebinding', 'deployer', '-n', 'limited', '--role=no-deployments', '--serviceaccount=limited:deployer']);
    const token = (await plane.kubectl(['create', 'token', 'deployer', '-n', 'limited'])).trim();
    const server = /server:\s*(\S+)/.exec(plane.kubeconfig)?.[1] ?? '';
    const ca = /certificate-authority-data:\s*(\S+)/.exec(plane.kubeconfig)?.[1] ?? '';
    const kubeconfig = ['apiVersion: v1', 'kind: Config', 'current-context: sa', `clusters: [{name: c, cluster: {server: "${server}", certificate-authority-data: ${ca}}}]`,
      `users: [{name: deployer, user: {token: ${token}}}]`, 'contexts: [{name: sa, context: {cluster: c, user: deployer, namespace: limited}}]'].join('\n');
    const refused = await deploy(FIXTURES.simple, 'limited', kubeconfig);
    expect(refused.status).toBe('failed');
    expect(refused.error?.code).toBe('preflight_failed');
    expect(refused.error?.message).toContain('This kube config may not create deployments.apps in namespace limited:');
    const permissions = refused.preflight?.checks.find((c) => c.name === 'permissions');
    expect(permissions?.status).toBe('failed');
    expect(permissions?.detail).not.toContain('services');
    expect(await objects('limited')).toEqual([]);
  }, 60_000);

  it('the namespace watch behind readiness works on the real apiserver: a Pod turning Ready is reported, not polled for', async () => {
    await plane.kubectl(['create', 'namespace', 'watched']);
    const client = createClusterClient(parseKubeconfig(plane.kubeconfig, { allowInsecure: false }));
    const watch = client.watchNamespace('watched');
    try {
      while ((await watch.next(500)) === 'changed');
      await plane.kubectl(['run', 'one', '-n', 'watched', '--image=registry.example.org/one:1', '--restart=Never']);
      // Created, scheduled, Running and Ready: changes the watch reports (a burst between two
      // calls of next() is one), until the namespace is quiet again.
      let changes = 0;
      while ((await watch.next(3000)) === 'changed') changes += 1;
      expect(changes).toBeGreaterThanOrEqual(1);
      expect(watch.healthy()).toBe(true);
      expect(await plane.kubectl(['get', 'pod', 'one', '-n', 'watched', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).toBe('True');
    } finally {
      watch.stop();
      client.close();
    }
  }, 60_000);

  it('after success it keeps watching: a Service deleted by hand is out-of-sync, a Deployment scaled to zero degraded; sync restores both', async () => {
    const done = await deploy(FIXTURES.simple, 'drifting');
    expect(done.status).toBe('succeeded');
    const read = async () => (await request(server()).get(`/api/v1/deployments/${done.id}`).set('authorization', token)).body as DeploymentBody & {
      health: { status: string; reason: string; objects: Array<{ kind: string; name: string; status: string; reason?: string }> } | null;
      sync: { status: string; differences: Array<{ kind: string; name: string; change: string; fields: string[] }> } | null;
    };
    const until = async (what: string, ok: (d: Awaited<ReturnType<typeof read>>) => boolean) => {
      for (let i = 0; i < 150; i++) {
        const d = await read();
        if (ok(d)) return d;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`${what}: ${JSON.stringify((await read()).health)} ${JSON.stringify((await read()).sync)}`);
    };
    await until('healthy and synced', (d) => d.health?.status === 'healthy' && d.sync?.status === 'synced');
    const service = (await objects('drifting', 'services'))[0]?.metadata.name ?? '';
    const workload = (await objects('drifting', 'deployments'))[0]?.metadata.name ?? '';

    await plane.kubectl(['delete', 'service', service, '-n', 'drifting']);
    const deleted = await until('the deleted Service seen', (d) => d.sync?.status === 'out-of-sync');
    expect(deleted.sync?.differences).toEqual([{ kind: 'Service', name: service, change: 'missing', fields: [] }]);
    expect(deleted.health?.status).toBe('missing');

    await plane.kubectl(['scale', 'deployment', workload, '-n', 'drifting', '--replicas=0']);
    const scaled = await until('the scaled Deployment seen', (d) => d.health?.objects.some((o) => o.kind === 'Deployment' && o.status === 'degraded') === true);
    expect(scaled.health?.objects.find((o) => o.kind === 'Deployment')).toEqual({ kind: 'Deployment', name: workload, status: 'degraded', reason: 'scaled to 0 of 1 replica(s)' });
    expect(scaled.sync?.differences).toEqual(expect.arrayContaining([{ kind: 'Deployment', name: workload, change: 'modified', fields: ['spec.replicas'] }]));
    const events = (await stack.runtime.pool.query<{ type: string; message: string }>('SELECT type, message FROM job_events WHERE job_id = $1 ORDER BY id', [done.jobId])).rows;
    expect(events.map((e) => e.message)).toContain(`out-of-sync: Service/${service} missing`);

    const synced = await request(server()).post(`/api/v1/deployments/${done.id}/sync`).set('authorization', token).send({});
    expect(synced.status).toBe(202);
    expect((await waitForDeployment(stack, token, done.id, undefined, 60_000)).status).toBe('succeeded');
    const back = await until('healthy and synced again', (d) => d.health?.status === 'healthy' && d.sync?.status === 'synced');
    expect(back.health?.objects.every((o) => o.status === 'healthy')).toBe(true);
    expect((await objects('drifting', 'services')).map((o) => o.metadata.name)).toEqual([service]);
    const page = await request(server()).get(`/deployments/${done.id}`).set('cookie', `Authorization=${token}`);
    expect(page.text).toContain('data-health="healthy"');
  }, 120_000);
});
