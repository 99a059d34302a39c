import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { waitForDeployment } from '../support/deploy-helpers.js';
import { hostBody } from '../support/cluster-helpers.js';
import { cdsEnvironment, startFakeCds, type FakeCds } from '../support/fake-cds.js';

/**
 * The server-rendered pages through HTTP against real PostgreSQL and the fake Kubernetes API
 * server (a test double): the front page's solutions, the deployments list with its filters and
 * pages, the sites and clusters pages, rollback by Graphene revision (API and the status page's
 * form), and the headers every page carries.
 */
let kube: FakeKube;
let stack: TestStack;
let ada: string;
let bob: string;
let admin: string;

const server = () => stack.runtime.app.server;

/** Single-container models (they deploy without an orchestrator): two revisions of one, one of another. */
async function writeModels(dir: string): Promise<void> {
  for (const [solution, name, revision] of [['echo-model', 'Echo Model', '1'], ['echo-model', 'Echo Model', '2'], ['ping-model', 'Ping Model', '1']] as const) {
    const folder = path.join(dir, solution, revision);
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, 'solution.json'), JSON.stringify({ name, kind: 'model', containerName: 'echo', image: `registry.example.org/${solution}:${revision}` }));
  }
}

async function deploy(token: string, body: Record<string, unknown>): Promise<string> {
  const response = await request(server()).post('/api/v1/deployments').set('authorization', token).send({ kubeconfig: kube.kubeconfig, ...body });
  expect(response.status).toBe(202);
  const id = String(response.body.id);
  expect((await waitForDeployment(stack, token, id)).status).toBe('succeeded');
  return id;
}

/** The rows of a page's table body `tbody#<id>`, as the `data-…` attribute values of its rows. */
function rowsOf(page: string, attribute: string): string[] {
  return [...page.matchAll(new RegExp(`<tr ${attribute}="([^"]+)"`, 'g'))].map((m) => m[1] ?? '');
}

const page = (url: string, token: string) => request(server()).get(url).set('cookie', `Authorization=${token}`);

let ids: { ada1: string; ada2: string; adaOther: string; bob1: string };

beforeAll(async () => {
  kube = await startFakeKube({ nodes: [{ name: 'node-1', internalIP: '10.0.0.11' }] });
  stack = await startTestStack({ DEPLOY_TIMEOUT: '20s' });
  await writeModels(stack.config.solutionsDir);
  ada = await stack.token({ email: 'ada@example.org' });
  bob = await stack.token({ email: 'bob@example.org' });
  admin = await stack.token({ email: 'root@example.org', roles: ['admin'] });
  const ada1 = await deploy(ada, { solutionId: 'echo-model', revisionId: '1', namespace: 'echo' });
  const ada2 = await deploy(ada, { solutionId: 'echo-model', revisionId: '2', namespace: 'echo' });
  const adaOther = await deploy(ada, { solutionId: 'ping-model', revisionId: '1', namespace: 'other' });
  const bob1 = await deploy(bob, { solutionId: 'echo-model', revisionId: '1', namespace: 'bobs' });
  ids = { ada1, ada2, adaOther, bob1 };
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await kube?.close();
});

describe('the front page', () => {
  it('lists the bundled example and imported solutions, each with its Deploy link', async () => {
    const response = await page('/', ada);
    expect(response.status).toBe(200);
    expect(rowsOf(response.text, 'data-solution')).toEqual(['echo-model/1', 'echo-model/2', 'ping-model/1', 'slipway-example-pipeline/1.0.0']);
    expect(response.text).toContain('Slipway Example Pipeline');
    expect(response.text).toContain('href="/deploy/slipway-example-pipeline/1.0.0"');
    expect(response.text).toContain('action="/solutions/import"');
    expect(response.text).not.toContain('choose <em>Deploy</em>');
  });

  it('with CDS configured, says how Graphene hands solutions over and still lists the local ones', async () => {
    const cds: FakeCds = await startFakeCds();
    const withCds = await startTestStack(cdsEnvironment(cds));
    try {
      const token = await withCds.token();
      const response = await request(withCds.runtime.app.server).get(`/?jwtToken=${token}`);
      expect(response.status).toBe(200);
      expect(response.text).toContain('open a solution there and choose <em>Deploy</em>');
      expect(rowsOf(response.text, 'data-solution')).toContain('slipway-example-pipeline/1.0.0');
    } finally {
      await withCds.close();
      await cds.close();
    }
  });
});

describe('the deployments page', () => {
  it("lists the caller's deployments newest first, each linking to its status page; an admin sees everyone's", async () => {
    const mine = await page('/deployments', ada);
    expect(mine.status).toBe(200);
    const expected = [ids.adaOther, ids.ada2, ids.ada1];
    expect(rowsOf(mine.text, 'data-deployment')).toEqual(expected);
    expect(mine.text).toContain(`href="/deployments/${ids.ada1}"`);
    expect(mine.text).toContain('<code>echo</code>');
    expect(mine.text).not.toContain(ids.bob1);
    const everyone = await page('/deployments', admin);
    expect(rowsOf(everyone.text, 'data-deployment')).toEqual([ids.bob1, ...expected]);
    expect(everyone.text).toContain('bob@example.org');
  });

  it('filters by status and solution (an empty field means any) and pages with a cursor', async () => {
    const bySolution = await page('/deployments?status=&solutionId=echo-model', ada);
    expect(bySolution.status).toBe(200);
    expect(rowsOf(bySolution.text, 'data-deployment')).toEqual([ids.ada2, ids.ada1]);
    expect(bySolution.text).toContain('<option value="echo-model" selected>Echo Model</option>');
    const failed = await page('/deployments?status=failed', ada);
    expect(rowsOf(failed.text, 'data-deployment')).toEqual([]);
    expect(failed.text).toContain('No deployment matches these filters.');

    const first = await page('/deployments?solutionId=echo-model&limit=1', ada);
    expect(rowsOf(first.text, 'data-deployment')).toEqual([ids.ada2]);
    const next = /rel="next" href="([^"]+)"/.exec(first.text)?.[1]?.replaceAll('&amp;', '&');
    expect(next).toMatch(/^\/deployments\?solutionId=echo-model&limit=1&cursor=/);
    const second = await page(next ?? '', ada);
    expect(rowsOf(second.text, 'data-deployment')).toEqual([ids.ada1]);
    expect(second.text).not.toContain('rel="next"');
    expect(second.text).toContain('First page');
  });

  it('refuses a bad filter with a problem that says what to fix', async () => {
    const response = await page('/deployments?status=sleeping', ada);
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
  });

  it('takes the token from ?jwtToken= like the Graphene entry page and keeps it in the cookie', async () => {
    const response = await request(server()).get(`/deployments?jwtToken=${ada}`);
    expect(response.status).toBe(200);
    expect(String(response.headers['set-cookie'])).toContain('Authorization=');
    expect((await request(server()).get('/deployments')).status).toBe(401);
  });

  it('is linked from every page header', async () => {
    for (const url of ['/', '/deployments', '/sites', '/clusters', `/deployments/${ids.ada1}`, '/deploy/echo-model/1']) {
      const response = await page(url, ada);
      expect(response.status, url).toBe(200);
      expect(response.text, url).toMatch(/<nav><a href="\/"[^>]*>Solutions<\/a><a href="\/deployments"[^>]*>Deployments<\/a>/);
    }
  });
});

describe('rollback by Graphene revision', () => {
  it('goes back to the latest succeeded deployment of a revision; errors name what to fix', async () => {
    const both = await request(server()).post(`/api/v1/deployments/${ids.ada2}/rollback`).set('authorization', ada).send({ revisionId: '1', toDeploymentId: ids.ada1 });
    expect(both.status).toBe(400);
    expect(both.body.detail).toContain('at most one');
    const unknown = await request(server()).post(`/api/v1/deployments/${ids.ada2}/rollback`).set('authorization', ada).send({ revisionId: '9' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.detail).toContain('revision 9 never succeeded in namespace echo');
    expect(unknown.body.detail).toContain('succeeded revisions: 2, 1');

    const back = await request(server()).post(`/api/v1/deployments/${ids.ada2}/rollback`).set('authorization', ada).send({ revisionId: '1' });
    expect(back.status).toBe(202);
    expect(back.body).toMatchObject({ revisionId: '1', namespace: 'echo', rollbackOf: ids.ada2 });
    expect((await waitForDeployment(stack, ada, back.body.id)).status).toBe('succeeded');
    const image = kube.listObjects('Deployment').find((o) => o.metadata.namespace === 'echo') as { spec?: { template?: { spec?: { containers?: Array<{ image?: string }> } } } } | undefined;
    expect(image?.spec?.template?.spec?.containers?.[0]?.image).toBe('registry.example.org/echo-model:1');
  });

  it('is offered on the status page for the earlier revisions, as a form that works without JavaScript', async () => {
    const latest = rowsOf((await page('/deployments?solutionId=echo-model', ada)).text, 'data-deployment')[0] ?? '';
    const status = await page(`/deployments/${latest}`, ada);
    expect(status.text).toContain('History of this namespace');
    // The namespace now runs revision 1: revision 2 is offered, revision 1 is not.
    expect(status.text).toContain('<input type="hidden" name="revisionId" value="2">');
    expect(status.text).not.toContain('<input type="hidden" name="revisionId" value="1">');
    const form = await request(server()).post(`/deployments/${latest}/rollback`).set('cookie', `Authorization=${ada}`).type('form').send({ revisionId: '2' });
    expect(form.status).toBe(303);
    const id = String(form.headers.location).split('/').pop() ?? '';
    expect(form.headers.location).toBe(`/deployments/${id}`);
    expect(await waitForDeployment(stack, ada, id)).toMatchObject({ status: 'succeeded', revisionId: '2' });
  });
});

describe('the sites and clusters pages', () => {
  it("shows the caller's sites with each host's state, and clusters with their status, linking to the site page", async () => {
    await request(server()).post('/api/v1/sites').set('authorization', ada).send({ name: 'lab', description: 'Basement lab' }).expect(201);
    await request(server()).post('/api/v1/sites/lab/hosts').set('authorization', ada).send(hostBody('server-1', 1)).expect(201);
    await request(server()).post('/api/v1/sites').set('authorization', bob).send({ name: 'bobs-site' }).expect(201);
    await request(server()).post('/api/v1/clusters').set('authorization', ada).send({ name: 'lab-cluster', kubeconfig: kube.kubeconfig }).expect(201);

    const sites = await page('/sites', ada);
    expect(sites.status).toBe(200);
    expect(sites.text).toContain('<a href="/sites/lab">lab</a>');
    expect(rowsOf(sites.text, 'data-host')).toEqual(['server-1']);
    expect(sites.text).toMatch(/<td class="state state-\w+">\w+<\/td>/);
    expect(sites.text).not.toContain('bobs-site');
    expect(sites.text).not.toContain('bmc-pass');
    expect((await page('/sites', admin)).text).toContain('bobs-site');
    expect((await page('/sites/lab', ada)).status).toBe(200);

    const clusters = await page('/clusters', ada);
    expect(clusters.status).toBe(200);
    expect(clusters.text).toContain('lab-cluster');
    expect(clusters.text).toContain('data-status="ready"');
    expect(clusters.text).toContain(kube.url);
    expect((await page('/clusters', bob)).text).toContain('No cluster yet');
    // The deployments page names a registered cluster instead of its address.
    expect((await page('/deployments', ada)).text).toContain('<td>lab-cluster</td>');
  });
});

describe('headers browsers expect', () => {
  it('serves every page with a CSP its markup satisfies (no inline script or style), nosniff, no framing, no referrer', async () => {
    for (const url of ['/', '/deployments', '/sites', '/sites/lab', '/clusters', `/deployments/${ids.ada1}`, '/deploy/echo-model/1']) {
      const response = await page(url, ada);
      expect(response.status, url).toBe(200);
      const csp = String(response.headers['content-security-policy']);
      expect(csp, url).toContain("script-src 'self'");
      expect(csp, url).toContain("style-src 'self'");
      expect(csp, url).toContain("frame-ancestors 'none'");
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
      expect(response.headers['referrer-policy'], url).toBe('no-referrer');
      // Only JSON data blocks are inline; scripts and styles come from /assets.
      for (const tag of response.text.matchAll(/<script([^>]*)>/g)) expect(tag[1], url).toMatch(/type="application\/json"|src="\/assets\//);
      expect(response.text, url).not.toMatch(/<style|\sstyle="|\son[a-z]+="/);
      for (const asset of response.text.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)) {
        const served = await request(server()).get(asset[1] ?? '');
        expect(served.status, asset[1]).toBe(200);
        expect(served.headers['x-content-type-options']).toBe('nosniff');
      }
    }
  });

  it('keeps answering problem+json on the API, and 404 for an unknown asset', async () => {
    const missing = await request(server()).get('/api/v1/deployments/00000000-0000-4000-8000-000000000000').set('authorization', ada);
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect((await request(server()).get('/assets/nope.js')).status).toBe(404);
    const css = await request(server()).get('/assets/slipway.css');
    expect(css.headers['content-type']).toContain('text/css');
    expect((await request(server()).get('/assets/slipway.css').set('if-none-match', String(css.headers.etag))).status).toBe(304);
  });
});
