import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startFakeCds, cdsEnvironment, type FakeCds } from '../support/fake-cds.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { startFakeOrchestrator } from '../support/fake-orchestrator.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { assertValidKubernetesObject } from '../support/k8s-schema.js';
import { connectOrchestrator } from '../../src/adapters/orchestrator/client.js';

/**
 * Deploys end to end through HTTP: real PostgreSQL, the real Kubernetes client against the fake
 * API server over HTTPS with client certificates, the real gRPC client against the fake
 * orchestrator, the fake CDS/Nexus serving the reference fixtures.
 *
 * The fake cluster's nodes and node ports are not reachable, so the stack dials the fake
 * orchestrator instead of `<node address>:<orchestrator node port>`; every address Slipway asked
 * for is recorded and checked against the cluster's own node port.
 */
const SUDOKU = { solutionId: '00aff3ab-94cb-4969-93c3-a95be53c05d2', revisionId: '2f7c7ef1-262c-4a73-8393-aef1ded7cad3' };
const SHARED = { solutionId: 'b979dabb-b461-47ae-8459-37b3f4be8851', revisionId: 'efe8ef3d-0d79-4347-abd7-c675411e9b50' };
const SIMPLE = { solutionId: 'e3794e16-0225-4bf1-a99c-b99638a22232', revisionId: '7220ac2a-a908-46df-a58d-bad87bbbad23' };

let cds: FakeCds;
let kube: FakeKube;
let orchestrator: Awaited<ReturnType<typeof startFakeOrchestrator>>;
let stack: TestStack;
let token: string;
const dialled: string[] = [];

beforeAll(async () => {
  cds = await startFakeCds();
  kube = await startFakeKube({ nodes: [{ name: 'node-1', internalIP: '10.0.0.11', externalIP: '192.0.2.10' }] });
  orchestrator = await startFakeOrchestrator();
  stack = await startTestStack(
    {
      ...cdsEnvironment(cds),
      DEPLOY_TIMEOUT: '15s',
    },
    {
      connectOrchestrator: (address) => {
        dialled.push(address);
        return connectOrchestrator(orchestrator.address, { timeoutMs: 5000 });
      },
    },
  );
  await stack.runtime.app.ready();
  token = await stack.token();
});

afterAll(async () => {
  await stack?.close();
  await orchestrator?.close();
  await kube?.close();
  await cds?.close();
});

interface DeploymentBody {
  id: string;
  status: string;
  namespace: string;
  steps: Array<{ name: string; status: string; durationMs: number | null; detail: string | null }>;
  services: Array<{ name: string; kubeName: string; role: string; nodePorts: { webui?: number; protobufApi?: number }; webUiUrl?: string }>;
  error: { code: string; message: string } | null;
}

async function deploy(ids: { solutionId: string; revisionId: string }, namespace: string, kubeconfig = kube.kubeconfig) {
  return request(stack.runtime.app.server)
    .post('/api/v1/deployments')
    .set('authorization', `Bearer ${token}`)
    .send({ ...ids, namespace, kubeconfig });
}

async function waitFinal(id: string, timeoutMs = 30_000): Promise<DeploymentBody> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const response = await request(stack.runtime.app.server).get(`/api/v1/deployments/${id}`).set('authorization', token);
    const body = response.body as DeploymentBody;
    if (['succeeded', 'failed', 'cancelled'].includes(body.status)) return body;
    if (Date.now() > until) throw new Error(`deployment ${id} still ${body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The applies that wrote (the preflight's dry runs, `dryRun=All`, are not among them). */
function applyRequests(namespace: string) {
  return kube.requests.filter((r) => r.method === 'PATCH' && r.contentType?.includes('apply-patch') && r.query.dryRun !== 'All' && (r.path.includes(`/namespaces/${namespace}`) || r.path.endsWith(`/namespaces/${namespace}`)));
}

beforeEach(() => {
  dialled.length = 0;
});

describe('deploying a pipeline', () => {
  it('applies the sudoku pipeline in waves, starts the orchestrator and lists the services', async () => {
    const response = await deploy(SUDOKU, 'sudoku');
    expect(response.status).toBe(202);
    expect(response.headers.location).toBe(`/api/v1/deployments/${response.body.id}`);
    expect(response.body).toMatchObject({ status: 'queued', namespace: 'sudoku', ...SUDOKU });
    expect(JSON.stringify(response.body)).not.toContain('client-key-data');

    const done = await waitFinal(response.body.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    expect(done.steps.map((s) => [s.name, s.status])).toEqual([
      ['fetch solution', 'succeeded'],
      ['render manifests', 'succeeded'],
      ['preflight', 'succeeded'],
      ['apply', 'succeeded'],
      ['wait for readiness', 'succeeded'],
      ['prune', 'succeeded'],
      ['start orchestrator', 'succeeded'],
      ['collect services', 'succeeded'],
    ]);
    expect(done.steps.every((s) => s.durationMs !== null)).toBe(true);

    // waves: the Namespace, then Services, then Deployments (no PVC without a shared folder)
    const kinds = applyRequests('sudoku').map((r) => (r.path.includes('/deployments/') ? 'Deployment' : r.path.includes('/services/') ? 'Service' : r.path.includes('/persistentvolumeclaims/') ? 'PVC' : 'Namespace'));
    expect(kinds.indexOf('Namespace')).toBe(0);
    expect(kinds.lastIndexOf('Service')).toBeLessThan(kinds.indexOf('Deployment'));
    expect(kinds.filter((k) => k === 'Deployment')).toHaveLength(4);
    for (const r of applyRequests('sudoku')) expect(r.query.fieldManager).toBe('slipway');

    // the orchestrator was reached at the node's ExternalIP and the orchestrator Service's node port
    const orchestratorService = kube.getObject('v1', 'Service', 'sudoku', 'orchestrator') as { spec: { ports: Array<{ name: string; nodePort: number }> } };
    const protobufPort = orchestratorService.spec.ports.find((p) => p.name === 'protobuf-api')?.nodePort;
    expect(dialled).toEqual([`192.0.2.10:${protobufPort}`]);
    expect(orchestrator.calls.map((c) => c.method)).toEqual(expect.arrayContaining(['get_status', 'initialize', 'run']));
    expect(orchestrator.state()).toBe('running');

    expect(done.services).toHaveLength(4);
    const orchestratorEntry = done.services.find((s) => s.role === 'orchestrator');
    expect(orchestratorEntry?.nodePorts.protobufApi).toBe(protobufPort);
    for (const service of done.services) expect(service.webUiUrl).toMatch(/^http:\/\/192\.0\.2\.10:\d+$/);

    for (const object of kube.listObjects().filter((o) => o.metadata.namespace === 'sudoku' && ['Deployment', 'Service'].includes(o.kind))) {
      expect(object.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('slipway');
    }
  });

  it('deploys the shared-folder pipeline with a ReadWriteMany claim mounted by every model', async () => {
    const response = await deploy(SHARED, 'news');
    const done = await waitFinal(response.body.id);
    expect(done.status).toBe('succeeded');
    const pvcs = kube.listObjects('PersistentVolumeClaim').filter((o) => o.metadata.namespace === 'news');
    expect(pvcs).toHaveLength(1);
    for (const pvc of pvcs) assertValidKubernetesObject(pvc);
    const deployments = kube.listObjects('Deployment').filter((o) => o.metadata.namespace === 'news' && o.metadata.name !== 'orchestrator') as Array<{ spec: { template: { spec: { containers: Array<{ volumeMounts?: Array<{ mountPath: string }> }> } } } }>;
    expect(deployments).toHaveLength(3);
    for (const d of deployments) expect(d.spec.template.spec.containers[0]?.volumeMounts?.[0]?.mountPath).toBe('/data/shared');
    const initialize = orchestrator.calls.filter((c) => c.method === 'initialize').at(-1)?.request as { blueprint: string };
    expect(JSON.parse(initialize.blueprint).nodes.some((n: { node_type: string }) => n.node_type === 'SharedFolder')).toBe(false);
  });

  it('deploys a single model without an orchestrator', async () => {
    const response = await deploy(SIMPLE, 'ner');
    const done = await waitFinal(response.body.id);
    expect(done.status).toBe('succeeded');
    expect(done.steps.map((s) => s.name)).not.toContain('start orchestrator');
    expect(done.services.map((s) => s.kubeName)).toEqual(['entityrecognizer']);
    expect(dialled).toEqual([]);
  });

  it('is idempotent: deploying the same revision again applies the same objects and does not initialise twice', async () => {
    const first = await waitFinal((await deploy(SUDOKU, 'sudoku-again')).body.id);
    expect(first.status).toBe('succeeded');
    const initializes = orchestrator.calls.filter((c) => c.method === 'initialize').length;
    const objects = kube.listObjects().filter((o) => o.metadata.namespace === 'sudoku-again').length;
    const second = await waitFinal((await deploy(SUDOKU, 'sudoku-again')).body.id);
    expect(second.status).toBe('succeeded');
    expect(kube.listObjects().filter((o) => o.metadata.namespace === 'sudoku-again').length).toBe(objects);
    expect(orchestrator.calls.filter((c) => c.method === 'initialize').length).toBe(initializes);
  });
});

describe('failures say why, per node', () => {
  it('reports an image pull failure with the image and the message', async () => {
    kube.faults.imagePull('sudoku:aspsolver', 'manifest unknown');
    const done = await waitFinal((await deploy(SUDOKU, 'broken-image')).body.id);
    kube.faults.clear?.();
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('deploy_not_ready');
    expect(done.error?.message).toContain('cicd.ai4eu-dev.eu:7444/tutorials/sudoku:aspsolver-1.2');
    expect(done.error?.message).toContain('manifest unknown');
    expect(done.steps.find((s) => s.name === 'wait for readiness')?.status).toBe('failed');
  });

  it('fails the job naming Kind/name and the server message on a 4xx from the API', async () => {
    kube.faults.failRequests({ method: 'PATCH', pathIncludes: '/services/', status: 422, count: 100 });
    const done = await waitFinal((await deploy(SIMPLE, 'rejected')).body.id);
    kube.faults.clear?.();
    expect(done.status).toBe('failed');
    expect(done.error?.message).toMatch(/Service\/entityrecognizer/);
  });

  it('retries 500s and 429s from the API and still succeeds', async () => {
    kube.faults.failRequests({ method: 'PATCH', pathIncludes: '/deployments/', status: 500, count: 2 });
    kube.faults.failRequests({ method: 'PATCH', pathIncludes: '/services/', status: 429, count: 1 });
    const done = await waitFinal((await deploy(SIMPLE, 'flaky')).body.id);
    expect(done.status).toBe('succeeded');
  });
});

describe('the deploy API', () => {
  it('rejects bad kube configs with 400 naming the field, before storing anything', async () => {
    const exec = kube.kubeconfig.replace(/client-key-data: .*/, 'exec:\n      command: /bin/sh\n      args: ["-c", "touch /tmp/pwned"]\n      apiVersion: client.authentication.k8s.io/v1');
    const response = await deploy(SIMPLE, 'bad', exec);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('kubeconfig_rejected');
    expect(JSON.stringify(response.body)).toContain('exec');
    const notYaml = await deploy(SIMPLE, 'bad', '{{{');
    expect(notYaml.status).toBe(400);
  });

  it('rejects an invalid namespace and unknown fields with 400', async () => {
    expect((await deploy(SIMPLE, 'Not_Valid')).status).toBe(400);
    const extra = await request(stack.runtime.app.server).post('/api/v1/deployments').set('authorization', token).send({ ...SIMPLE, kubeconfig: kube.kubeconfig, replicas: 3 });
    expect(extra.status).toBe(400);
  });

  it('lets only the owner or an admin read a deployment', async () => {
    const response = await deploy(SIMPLE, 'private');
    const other = await stack.token({ email: 'eve@example.org' });
    const admin = await stack.token({ email: 'root@example.org', roles: ['admin'] });
    expect((await request(stack.runtime.app.server).get(`/api/v1/deployments/${response.body.id}`).set('authorization', other)).status).toBe(404);
    expect((await request(stack.runtime.app.server).get(`/api/v1/deployments/${response.body.id}`).set('authorization', admin)).status).toBe(200);
    await waitFinal(response.body.id);
  });

  it('takes the Graphene form (multipart with a kube config file) and answers 303 to the status page', async () => {
    const response = await request(stack.runtime.app.server)
      .post('/deploy')
      .set('cookie', `Authorization=${token}`)
      .field('solutionId', SIMPLE.solutionId)
      .field('revisionId', SIMPLE.revisionId)
      .field('namespaceName', 'from-form')
      .attach('configFile', Buffer.from(kube.kubeconfig), 'kubeconfig.yaml');
    expect(response.status).toBe(303);
    expect(response.headers.location).toMatch(/^\/deployments\/[0-9a-f-]{36}$/);
    const id = String(response.headers.location).split('/').pop() ?? '';
    const page = await request(stack.runtime.app.server).get(`/deployments/${id}`).set('cookie', `Authorization=${token}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('from-form');
    expect((await waitFinal(id)).status).toBe('succeeded');
  });

  it('takes the urlencoded form with a pasted kube config', async () => {
    const response = await request(stack.runtime.app.server)
      .post('/deploy')
      .set('cookie', `Authorization=${token}`)
      .type('form')
      .send({ ...SIMPLE, namespaceName: 'pasted', config: kube.kubeconfig });
    expect(response.status).toBe(303);
  });

  it('never stores the kube config in clear', async () => {
    const response = await deploy(SIMPLE, 'sealed');
    const { rows } = await stack.runtime.pool.query<{ kubeconfig_enc: string }>('SELECT kubeconfig_enc FROM deployments WHERE id = $1', [response.body.id]);
    const sealed = rows[0]?.kubeconfig_enc ?? '';
    expect(sealed.startsWith('v1.')).toBe(true);
    const keyData = /client-key-data: (\S+)/.exec(kube.kubeconfig)?.[1] ?? 'missing';
    expect(sealed).not.toContain(keyData.slice(0, 40));
    await waitFinal(response.body.id);
  });
});
