import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { parseAllDocuments } from 'yaml';
import { SignJWT } from 'jose';
import { startFakeCds, cdsEnvironment, FIXTURE_CREDENTIALS, type FakeCds } from '../support/fake-cds.js';
import { startTestStack, TEST_JWT_SECRET, type TestStack } from '../support/stack.js';
import { assertValidKubernetesObject } from '../support/k8s-schema.js';
import { decodeJwtSecret } from '../../src/http/auth/secret.js';
import { assembleToken, portalClaims } from '../support/jwt.js';

/**
 * The Graphene front door through real HTTP, against real PostgreSQL and a fake CDS/Nexus serving
 * the reference deployer's fixtures: authentication, the entry form, the manifests endpoint,
 * health, metrics and OpenAPI, all under BASE_PATH as behind Graphene's ingress.
 */
const SUDOKU = { solutionId: '00aff3ab-94cb-4969-93c3-a95be53c05d2', revisionId: '2f7c7ef1-262c-4a73-8393-aef1ded7cad3' };
const SHARED = { solutionId: 'b979dabb-b461-47ae-8459-37b3f4be8851', revisionId: 'efe8ef3d-0d79-4347-abd7-c675411e9b50' };
const SIMPLE = { solutionId: 'e3794e16-0225-4bf1-a99c-b99638a22232', revisionId: '7220ac2a-a908-46df-a58d-bad87bbbad23' };
const BASE = '/creodias-deployer';

let cds: FakeCds;
let stack: TestStack;
let token: string;
const server = () => stack.runtime.app.server;

beforeAll(async () => {
  cds = await startFakeCds();
  stack = await startTestStack({
    BASE_PATH: BASE,
    ...cdsEnvironment(cds),
    UPSTREAM_TIMEOUT: '2s',
  });
  await stack.runtime.app.ready();
  token = await stack.token();
});

afterAll(async () => {
  await stack?.close();
  await cds?.close();
});

describe('authentication over HTTP', () => {
  const key = decodeJwtSecret(TEST_JWT_SECRET, 'base64');
  const url = `${BASE}/api/v1/solutions/${SUDOKU.solutionId}/revisions/${SUDOKU.revisionId}/manifests`;

  it('answers 401 problem+json with a reason for every bad token, never a 500', async () => {
    const expired = await new SignJWT(portalClaims({ exp: Math.floor(Date.now() / 1000) - 60 })).setProtectedHeader({ alg: 'HS512' }).sign(key);
    const noExp = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS512' }).sign(key);
    const wrongKey = await new SignJWT(portalClaims()).setProtectedHeader({ alg: 'HS512' }).sign(new Uint8Array(32).fill(1));
    const [h, p, s] = token.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify(portalClaims({ sub: 'mallory', mlpuser: { email: 'mallory@example.org' } }))).toString('base64url')}.${s}`;
    const none = assembleToken({ alg: 'none', typ: 'JWT' }, portalClaims());
    const cases: Array<[string, Record<string, string>, string]> = [
      ['missing', {}, 'missing_token'],
      ['expired', { authorization: `Bearer ${expired}` }, 'expired'],
      ['no exp', { authorization: noExp }, 'missing_exp'],
      ['wrong key', { jwttoken: wrongKey }, 'bad_signature'],
      ['tampered', { authorization: `Bearer ${tampered}` }, 'bad_signature'],
      ['alg none', { authorization: `Bearer ${none}` }, 'unsupported_algorithm'],
      ['garbage', { authorization: 'Bearer not.a.jwt' }, 'malformed_token'],
    ];
    expect(p).toBeDefined();
    for (const [name, headers, reason] of cases) {
      const response = await request(server()).get(url).set(headers);
      expect(response.status, name).toBe(401);
      expect(response.headers['content-type'], name).toMatch(/application\/problem\+json/);
      expect(response.body, name).toMatchObject({ status: 401, code: 'unauthorized', reason });
    }
  });

  it('shows browsers a readable 401 page', async () => {
    const response = await request(server()).get(`${BASE}/deploy/${SUDOKU.solutionId}/${SUDOKU.revisionId}`).set('accept', 'text/html');
    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toMatch(/text\/html/);
    expect(response.text).toContain('Open this page from Graphene');
  });

  it('accepts the token from the query, a header, Authorization (raw or Bearer) and the cookie', async () => {
    for (const headers of [{ jwttoken: token }, { authorization: token }, { authorization: `Bearer ${token}` }, { cookie: `Authorization=${token}` }]) {
      const response = await request(server()).get(url).set(headers);
      expect(response.status).toBe(200);
    }
    const query = await request(server()).get(`${url}?jwtToken=${token}`);
    expect(query.status).toBe(200);
  });

  it('sets the Authorization cookie on a valid ?jwtToken=, scoped to the base path', async () => {
    const response = await request(server()).get(`${BASE}/deploy/${SUDOKU.solutionId}/${SUDOKU.revisionId}?jwtToken=${token}`);
    expect(response.status).toBe(200);
    const cookie = String(response.headers['set-cookie']);
    expect(cookie).toContain(`Authorization=${token}`);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain(`Path=${BASE}`);
    expect(cookie).not.toContain('Secure');
  });
});

describe('the Graphene entry page', () => {
  it('shows the form with read-only ids, a DNS-1123 default namespace and the kube config fields', async () => {
    const response = await request(server()).get(`${BASE}/deploy/${SUDOKU.solutionId}/${SUDOKU.revisionId}?jwtToken=${token}`);
    expect(response.status).toBe(200);
    expect(response.text).toMatch(new RegExp(`name="solutionId" value="${SUDOKU.solutionId}" readonly`));
    expect(response.text).toMatch(new RegExp(`name="revisionId" value="${SUDOKU.revisionId}" readonly`));
    const namespace = /name="namespaceName" value="([^"]+)"/.exec(response.text)?.[1];
    expect(namespace).toMatch(/^sudoku-tutorial-2f7c7ef1/);
    expect(namespace?.length).toBeLessThanOrEqual(63);
    expect(namespace).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(response.text).toContain('name="config"');
    expect(response.text).toContain('type="file"');
    expect(response.text).toContain(`action="${BASE}/deploy"`);
  });

  it('answers 404 naming the solution when CDS does not know it', async () => {
    const response = await request(server()).get(`${BASE}/deploy/no-such-solution/r1?jwtToken=${token}`).set('accept', 'application/json');
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ code: 'solution_not_found' });
    expect(response.body.detail).toContain('no-such-solution');
  });

  it('answers 503 naming CDS when it cannot be reached, without its credentials', async () => {
    cds.failNext('/ccds/solution/cds-is-down', 503, 100);
    const response = await request(server()).get(`${BASE}/api/v1/solutions/cds-is-down/revisions/r1/manifests`).set('authorization', token);
    expect([502, 503]).toContain(response.status);
    expect(response.body.detail).toContain('CDS');
    expect(JSON.stringify(response.body)).not.toContain('ccds_client:test');
  });
});

describe('the manifests endpoint', () => {
  const manifests = (ids: { solutionId: string; revisionId: string }, query = '') =>
    `${BASE}/api/v1/solutions/${ids.solutionId}/revisions/${ids.revisionId}/manifests${query}`;

  it.each([
    ['simple', SIMPLE, 1],
    ['sudoku', SUDOKU, 4],
    ['shared folder', SHARED, 4],
  ])('renders schema-valid objects for the %s fixture as YAML', async (_name, ids, deployments) => {
    const response = await request(server()).get(manifests(ids, '?namespace=team-a')).set('authorization', token);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/application\/yaml/);
    const objects = parseAllDocuments(response.text).map((doc) => doc.toJSON() as { kind: string; metadata: { namespace?: string } });
    for (const object of objects) assertValidKubernetesObject(object);
    expect(objects.filter((o) => o.kind === 'Deployment')).toHaveLength(deployments);
    expect(objects.filter((o) => o.kind === 'Service')).toHaveLength(deployments);
    expect(objects.filter((o) => o.kind !== 'Namespace').every((o) => o.metadata.namespace === 'team-a')).toBe(true);
  });

  it('returns namespace, objects, dockerinfo and the orchestrator blueprint as JSON', async () => {
    const response = await request(server()).get(manifests(SHARED)).set({ authorization: token, accept: 'application/json' });
    expect(response.status).toBe(200);
    const body = response.body as { namespace: string; objects: Array<{ kind: string; spec?: { accessModes?: string[] } }>; dockerinfo: { docker_info_list: Array<{ container_name: string; port: number }> }; blueprint: { nodes: Array<{ node_type: string }> } };
    for (const object of body.objects) assertValidKubernetesObject(object);
    const pvc = body.objects.find((o) => o.kind === 'PersistentVolumeClaim');
    expect(pvc?.spec?.accessModes).toEqual(['ReadWriteMany']);
    expect(body.dockerinfo.docker_info_list.map((e) => e.container_name)).toContain('orchestrator');
    expect(body.dockerinfo.docker_info_list.every((e) => e.port === 8061)).toBe(true);
    expect(body.blueprint.nodes.some((n) => n.node_type === 'SharedFolder')).toBe(false);
  });

  it('rejects a namespace that is not a DNS-1123 label with 400 saying what to fix', async () => {
    const response = await request(server()).get(manifests(SUDOKU, '?namespace=Team_A')).set('authorization', token);
    expect(response.status).toBe(400);
    expect(response.body.detail).toContain('DNS-1123');
  });
});

describe('operations endpoints', () => {
  it('serves health, readiness, metrics, the OpenAPI document and its UI', async () => {
    expect((await request(server()).get(`${BASE}/healthz`)).body).toEqual({ status: 'ok' });
    expect((await request(server()).get(`${BASE}/readyz`)).body).toEqual({ status: 'ready' });
    const metrics = await request(server()).get(`${BASE}/metrics`);
    expect(metrics.text).toContain('slipway_http_requests_total');
    const openapi = await request(server()).get(`${BASE}/openapi.json`);
    expect(openapi.body.paths).toHaveProperty('/api/v1/deployments');
    const docs = await request(server()).get(`${BASE}/docs/`);
    expect(docs.status).toBe(200);
  });

  it('never writes a token, a password or a kube config into the log', async () => {
    const secretKubeconfig = 'token: super-secret-cluster-token-123';
    await request(server()).get(`${BASE}/deploy/${SUDOKU.solutionId}/${SUDOKU.revisionId}?jwtToken=${token}`);
    await request(server()).post(`${BASE}/api/v1/deployments`).set('authorization', `Bearer ${token}`).send({ ...SUDOKU, kubeconfig: secretKubeconfig });
    await request(server()).get(`${BASE}/healthz`).set('cookie', `Authorization=${token}`);
    const all = stack.logs.join('\n');
    expect(stack.logs.length).toBeGreaterThan(3);
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.split('.')[2] ?? 'x');
    expect(all).not.toContain('super-secret-cluster-token-123');
    expect(all).not.toContain('acumos_rw:test');
    expect(all).not.toContain(Buffer.from('acumos_rw:test').toString('base64'));
  });
});
