import { randomBytes } from 'node:crypto';
import AdmZip from 'adm-zip';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSolutionSource } from '../../src/adapters/local-solutions/local-solution-source.js';
import { bundledExamplesDir } from '../../src/adapters/solution-source.js';
import { solutionZipRoutes } from '../../src/http/solutions/zip-routes.js';
import { uploadForm } from '../../src/http/views/upload-form.js';
import { buildSolutionZip } from '../../src/services/solution-zip/export.js';
import { loadFixtureSolution } from '../support/fixture-solutions.js';
import { handmadeZip } from '../support/handmade-zip.js';
import { startTestStack, type TestStack } from '../support/stack.js';

const EXAMPLE = { solutionId: 'slipway-example-pipeline', revisionId: '1.0.0' };
const EXAMPLE_ZIP = `/api/v1/solutions/${EXAMPLE.solutionId}/revisions/${EXAMPLE.revisionId}/solution.zip`;
const BOUNDARY = '----slipway-test-boundary';

let stack: TestStack;
let token: string;

/** A multipart/form-data body with one file part, as a browser or `curl -F` sends it. */
function multipart(field: string, content: Buffer, filename = 'solution.zip'): Buffer {
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: application/zip\r\n\r\n`),
    content,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

function upload(zip: Buffer, options: { field?: string; url?: string; auth?: boolean } = {}) {
  const call = request(stack.runtime.app.server)
    .post(options.url ?? '/api/v1/solutions')
    .set('content-type', `multipart/form-data; boundary=${BOUNDARY}`);
  if (options.auth !== false) call.set('authorization', `Bearer ${token}`);
  return call.send(multipart(options.field ?? 'file', zip));
}

function binary(response: request.Response): Buffer {
  return response.body as Buffer;
}

function getZip(url: string) {
  return request(stack.runtime.app.server)
    .get(url)
    .set('authorization', `Bearer ${token}`)
    .buffer(true)
    .parse((res, callback) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => callback(null, Buffer.concat(chunks)));
    });
}

beforeAll(async () => {
  stack = await startTestStack();
  await stack.runtime.app.ready();
  token = await stack.token();
});

afterAll(async () => {
  await stack?.close();
});

describe('GET solution.zip', () => {
  it('answers 401 without a token, on both paths', async () => {
    for (const url of [EXAMPLE_ZIP, `/getSolutionZip/${EXAMPLE.solutionId}/${EXAMPLE.revisionId}`]) {
      const response = await request(stack.runtime.app.server).get(url);
      expect(response.status, url).toBe(401);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('answers the zip as an attachment', async () => {
    const response = await getZip(EXAMPLE_ZIP);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/zip');
    expect(response.headers['content-disposition']).toBe('attachment; filename="solution.zip"');
    const names = new AdmZip(binary(response)).getEntries().map((entry) => entry.entryName);
    expect(names).toEqual(expect.arrayContaining(['blueprint.json', 'deploy.sh', 'deployment-readme.txt', 'deployments/orchestrator_deployment.yaml', 'deployments/pvc.yaml']));
  });

  it("serves the reference kubernetes-client's path, with the token as Graphene passes it", async () => {
    const response = await request(stack.runtime.app.server)
      .get(`/getSolutionZip/${EXAMPLE.solutionId}/${EXAMPLE.revisionId}?jwtToken=${encodeURIComponent(token)}`)
      .buffer(true)
      .parse((res, callback) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => callback(null, Buffer.concat(chunks)));
      });
    expect(response.status).toBe(200);
    expect(response.headers['content-disposition']).toBe('attachment; filename="solution.zip"');
    expect(new AdmZip(binary(response)).getEntry('solution.json')).not.toBeNull();
  });

  it('answers 404 for a solution that does not exist', async () => {
    const response = await request(stack.runtime.app.server).get('/api/v1/solutions/nope/revisions/1/solution.zip').set('authorization', `Bearer ${token}`);
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('solution_not_found');
  });
});

describe('POST /api/v1/solutions (import)', () => {
  it('answers 401 without a token', async () => {
    const response = await upload(buildSolutionZip(loadFixtureSolution('sudoku'), stack.config), { auth: false });
    expect(response.status).toBe(401);
  });

  it('imports a zip (201), after which every solution endpoint finds the ids; the same zip again is 200', async () => {
    const zip = buildSolutionZip(loadFixtureSolution('sudoku'), stack.config);
    const created = await upload(zip);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      solutionId: '00aff3ab-94cb-4969-93c3-a95be53c05d2',
      revisionId: expect.stringMatching(/^[0-9a-f]{32}$/),
      name: 'Sudoku Tutorial',
      kind: 'pipeline',
      created: true,
      warnings: [],
    });
    const { solutionId, revisionId } = created.body as { solutionId: string; revisionId: string };

    const manifests = await request(stack.runtime.app.server)
      .get(`/api/v1/solutions/${solutionId}/revisions/${revisionId}/manifests`)
      .set('authorization', `Bearer ${token}`)
      .set('accept', 'application/json');
    expect(manifests.status).toBe(200);
    expect((manifests.body.objects as Array<{ kind: string }>).filter((object) => object.kind === 'Deployment')).toHaveLength(4);

    const form = await request(stack.runtime.app.server).get(`/deploy/${solutionId}/${revisionId}`).set('authorization', `Bearer ${token}`);
    expect(form.status).toBe(200);
    expect(form.text).toContain('Deploy Sudoku Tutorial');

    const again = await getZip(`/api/v1/solutions/${solutionId}/revisions/${revisionId}/solution.zip`);
    expect(again.status).toBe(200);

    const repeated = await upload(zip);
    expect(repeated.status).toBe(200);
    expect(repeated.body).toEqual({ ...created.body, created: false });
  });

  it('accepts the field name "solution" and zips larger than the default 1 MiB upload limit', async () => {
    const zip = new AdmZip(buildSolutionZip(loadFixtureSolution('shared-folder'), stack.config));
    zip.addFile('extra/noise.bin', randomBytes(3 * 1024 * 1024));
    const response = await upload(zip.toBuffer(), { field: 'solution' });
    expect(response.status).toBe(201);
    expect(response.body.name).toBe('news-training-pipeline');
  });

  it('answers 400 listing every problem, and stores nothing', async () => {
    const hostile = handmadeZip([
      { name: 'blueprint.json', content: '{}' },
      { name: '../../etc/cron.d/evil', content: 'x' },
      { name: '/abs', content: 'x' },
    ]);
    const response = await upload(hostile);
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.body.code).toBe('validation_failed');
    expect(response.body.problems).toEqual([
      'solution.zip "../../etc/cron.d/evil": the path contains ".."',
      'solution.zip "/abs": the path is an absolute path',
    ]);
  });

  it('answers 400 listing the content problems of a zip that is no solution', async () => {
    const response = await upload(handmadeZip([{ name: 'blueprint.json', content: JSON.stringify({ nodes: [] }) }]));
    expect(response.status).toBe(400);
    expect(response.body.problems).toEqual(['blueprint.json: blueprint: nodes is empty']);
  });

  it('answers 400 for a file in another field, and 415 for a body that is not multipart', async () => {
    const wrongField = await upload(buildSolutionZip(loadFixtureSolution('simple'), stack.config), { field: 'zip' });
    expect(wrongField.status).toBe(400);
    expect(wrongField.body.detail).toContain('"file"');
    const json = await request(stack.runtime.app.server).post('/api/v1/solutions').set('authorization', `Bearer ${token}`).send({ zip: 'no' });
    expect(json.status).toBe(415);
    expect(json.body.code).toBe('unsupported_media_type');
  });

  it('the upload form target answers 303 to the deploy form of the imported revision', async () => {
    const response = await upload(buildSolutionZip(loadFixtureSolution('simple'), stack.config), { url: '/solutions/import' });
    expect(response.status).toBe(303);
    expect(response.headers.location).toMatch(/^\/deploy\/e3794e16-0225-4bf1-a99c-b99638a22232\/[0-9a-f]{32}$/);
  });
});

describe('upload form', () => {
  it('posts the zip as "file", multipart, to the import target under the base path', () => {
    const form = uploadForm('/creodias-deployer').toString();
    expect(form).toContain('action="/creodias-deployer/solutions/import"');
    expect(form).toContain('enctype="multipart/form-data"');
    expect(form).toContain('name="file"');
  });
});
