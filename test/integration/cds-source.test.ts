import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CdsSolutionSource, type CdsSolutionSourceOptions } from '../../src/adapters/cds/cds-solution-source.js';
import { AppError, BlueprintInvalidError, NotFoundError, UpstreamError, ValidationError } from '../../src/errors.js';
import type { Solution } from '../../src/domain/solution.js';
import { FIXTURES_DIR, FIXTURE_CREDENTIALS, startFakeCds, type FakeCds } from '../support/fake-cds.js';

const SIMPLE = { solutionId: 'e3794e16-0225-4bf1-a99c-b99638a22232', revisionId: '7220ac2a-a908-46df-a58d-bad87bbbad23' };
const SUDOKU = { solutionId: '00aff3ab-94cb-4969-93c3-a95be53c05d2', revisionId: '2f7c7ef1-262c-4a73-8393-aef1ded7cad3' };
const SHARED = { solutionId: 'b979dabb-b461-47ae-8459-37b3f4be8851', revisionId: 'efe8ef3d-0d79-4347-abd7-c675411e9b50' };
const UNKNOWN_ID = '11111111-2222-3333-4444-555555555555';

let fake: FakeCds;

beforeEach(async () => {
  fake = await startFakeCds();
});
afterEach(async () => {
  await fake.close();
});

function source(overrides: Partial<CdsSolutionSourceOptions> = {}): CdsSolutionSource {
  return new CdsSolutionSource({
    cds: { url: `${fake.url}/ccds`, ...FIXTURE_CREDENTIALS.cds },
    nexus: { url: `${fake.url}/nexus`, ...FIXTURE_CREDENTIALS.nexus },
    timeoutMs: 5_000,
    retryBaseDelayMs: 5,
    ...overrides,
  });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected the call to fail'),
    (error: unknown) => error,
  );
}

async function fixtureBody(file: string): Promise<unknown> {
  const stub = JSON.parse(await readFile(path.join(FIXTURES_DIR, file), 'utf8')) as { response: { jsonBody: unknown } };
  return stub.response.jsonBody;
}

function requestsTo(prefix: string): number {
  return fake.requests.filter((request) => request.path.startsWith(prefix)).length;
}

describe('CdsSolutionSource with the Graphene fixtures', () => {
  it('reads the simple solution as a single model from its DI artifact', async () => {
    const solution = await source().getSolution(SIMPLE.solutionId, SIMPLE.revisionId);
    expect(solution).toEqual<Solution>({
      ...SIMPLE,
      kind: 'model',
      name: 'EntityRecognizer',
      containerName: 'entityrecognizer',
      image: 'hub.cc-asp.fraunhofer.de/ai4media-public/named-entity-recognition-flair:1.0.0',
    });
    // The MI proto is not stubbed: it was asked for, and its 404 left `proto` out.
    expect(requestsTo('/nexus/org/acumos/e3794e16-0225-4bf1-a99c-b99638a22232/entityrecognizer/')).toBe(1);
  });

  it('includes the model proto when Nexus has it', async () => {
    fake.addStub({
      request: {
        url: '/nexus/org/acumos/e3794e16-0225-4bf1-a99c-b99638a22232/entityrecognizer/1.0.2/entityrecognizer-1.0.2.proto',
        method: 'GET',
        basicAuth: { username: 'acumos_rw', password: 'test' },
      },
      response: { status: 200, body: 'syntax = "proto3";\nmessage Text { string text = 1; }\n' },
    });
    const solution = await source().getSolution(SIMPLE.solutionId, SIMPLE.revisionId);
    expect(solution.kind === 'model' && solution.proto).toContain('message Text');
  });

  it('reads the sudoku solution as a pipeline with its blueprint and three protos', async () => {
    const solution = await source().getSolution(SUDOKU.solutionId, SUDOKU.revisionId);
    if (solution.kind !== 'pipeline') return expect.fail(`expected a pipeline, got ${solution.kind}`);
    expect(solution.name).toBe('Sudoku Tutorial');
    expect(solution.blueprint).toEqual(await fixtureBody('nexus_sudoku_blueprint.json'));
    expect(Object.keys(solution.protos).sort()).toEqual([
      'aspsolver-clingo-oneshot1',
      'sudoku-tutorial-design-evaluator1',
      'sudoku-tutorial-gui1',
    ]);
    expect(solution.protos['aspsolver-clingo-oneshot1']).toContain('service OneShotAnswerSetSolver');
    expect(solution.protos['sudoku-tutorial-gui1']).toContain('service SudokuGUI');
  });

  it('reads the shared-folder solution with protos for the model nodes only', async () => {
    const solution = await source().getSolution(SHARED.solutionId, SHARED.revisionId);
    if (solution.kind !== 'pipeline') return expect.fail(`expected a pipeline, got ${solution.kind}`);
    expect(solution.name).toBe('news-training-pipeline');
    expect(Object.keys(solution.protos).sort()).toEqual(['news-classifier1', 'newstrainer1', 'tensorboard1']);
    expect(solution.protos.tensorboard1).toContain('service Tensorboard');
    // The SharedFolder node's placeholder proto is never fetched.
    expect(requestsTo('/nexus/org/acumos/152894f9-853e-45fc-8879-7bfcb852c7a7/')).toBe(0);
  });
});

describe('CdsSolutionSource errors', () => {
  it('answers NotFoundError solution_not_found for an unknown solution', async () => {
    const error = await rejection(source().getSolution(UNKNOWN_ID, SIMPLE.revisionId));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ code: 'solution_not_found', status: 404, message: `Solution ${UNKNOWN_ID} not found in CDS` });
  });

  it('answers NotFoundError revision_not_found for an unknown revision', async () => {
    const error = await rejection(source().getSolution(SIMPLE.solutionId, UNKNOWN_ID));
    expect(error).toMatchObject({ code: 'revision_not_found', status: 404 });
  });

  it('refuses ids that are not path-safe before any request', async () => {
    for (const [solutionId, revisionId] of [['../admin', SIMPLE.revisionId], [SIMPLE.solutionId, '..'], ['a/b', 'c'], ['', 'x'], ['%2e%2e', 'x']] as const) {
      const error = await rejection(source().getSolution(solutionId, revisionId));
      expect(error, `${solutionId} / ${revisionId}`).toBeInstanceOf(ValidationError);
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('says CDS refused the credentials without repeating them', async () => {
    const wrong = { url: `${fake.url}/ccds`, user: 'ccds_client', password: 'Sup3r-Secret-Pw' };
    const error = await rejection(source({ cds: wrong }).getSolution(SIMPLE.solutionId, SIMPLE.revisionId));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ system: 'CDS', status: 502, code: 'upstream_unauthorized' });
    expect(String((error as Error).message)).toMatch(/^CDS: refused the configured credentials/);
    expect(JSON.stringify({ message: (error as Error).message, extra: (error as AppError).extra })).not.toContain('Sup3r-Secret-Pw');
    expect(requestsTo('/ccds/')).toBe(1);
  });

  it('says Nexus refused the credentials', async () => {
    const wrong = { url: `${fake.url}/nexus`, user: 'acumos_rw', password: 'nope' };
    const error = await rejection(source({ nexus: wrong }).getSolution(SUDOKU.solutionId, SUDOKU.revisionId));
    expect(error).toMatchObject({ system: 'Nexus', code: 'upstream_unauthorized' });
  });

  it('retries 503s and a reset connection, then succeeds', async () => {
    fake.failNext('/ccds/solution/', 503, 2);
    fake.failNext('/nexus/', 'reset', 1);
    const solution = await source().getSolution(SUDOKU.solutionId, SUDOKU.revisionId);
    expect(solution.kind).toBe('pipeline');
    expect(requestsTo('/ccds/solution/')).toBe(3);
  });

  it('gives up on persistent 503s after the configured retries with an error naming CDS', async () => {
    fake.failNext('/ccds/solution/', 503, 100);
    const error = await rejection(source({ retries: 3 }).getSolution(SIMPLE.solutionId, SIMPLE.revisionId));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ system: 'CDS', status: 502 });
    expect((error as Error).message).toContain('HTTP 503 after 4 attempts');
    expect(requestsTo('/ccds/solution/')).toBe(4);
  });

  it('does not retry a 500 from Nexus and names Nexus', async () => {
    fake.failNext('/nexus/', 500, 100);
    const error = await rejection(source().getSolution(SUDOKU.solutionId, SUDOKU.revisionId));
    expect(error).toMatchObject({ system: 'Nexus', status: 502 });
    expect((error as Error).message).toContain('HTTP 500');
    expect(requestsTo('/nexus/')).toBe(1);
  });

  it('times out a hanging CDS with a 504', async () => {
    fake.failNext('/ccds/', 'hang', 100);
    const error = await rejection(source({ timeoutMs: 200 }).getSolution(SIMPLE.solutionId, SIMPLE.revisionId));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ system: 'CDS', status: 504, code: 'upstream_timeout' });
  });

  it('answers 503 when CDS refuses connections', async () => {
    const closedPort = await unusedPort();
    const cds = { url: `http://127.0.0.1:${closedPort}/ccds`, ...FIXTURE_CREDENTIALS.cds };
    const error = await rejection(source({ cds }).getSolution(SIMPLE.solutionId, SIMPLE.revisionId));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ system: 'CDS', status: 503, code: 'upstream_unreachable' });
    expect((error as Error).message).toContain('ECONNREFUSED');
  });

  it('answers 422 solution_incomplete when a pipeline has no BP artifact', async () => {
    stubCdsSolution('CP', [{ artifactTypeCode: 'CD', name: 'cdump', uri: 'org/acumos/x/cdump.json' }]);
    const error = await rejection(source().getSolution('incomplete-1', 'rev-1'));
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'solution_incomplete', status: 422, message: 'No BP type artifacts returned for revision rev-1' });
  });

  it('answers 422 solution_incomplete when a model has no DI artifact', async () => {
    stubCdsSolution('MN', [{ artifactTypeCode: 'MI', name: 'model.proto', uri: 'org/acumos/x/model.proto' }]);
    const error = await rejection(source().getSolution('incomplete-1', 'rev-1'));
    expect(error).toMatchObject({ code: 'solution_incomplete', status: 422, message: 'No DI type artifacts returned for revision rev-1' });
  });

  it('reports a blueprint that is not JSON as an invalid blueprint', async () => {
    stubCdsSolution('CP', [{ artifactTypeCode: 'BP', name: 'bp', uri: 'org/acumos/x/bp.json' }]);
    fake.addStub({
      request: { url: '/nexus/org/acumos/x/bp.json', method: 'GET', basicAuth: { username: 'acumos_rw', password: 'test' } },
      response: { status: 200, body: '{"nodes": [' },
    });
    const error = await rejection(source().getSolution('incomplete-1', 'rev-1'));
    expect(error).toBeInstanceOf(BlueprintInvalidError);
  });

  it('refuses a Nexus path that climbs out of the repository', async () => {
    stubCdsSolution('CP', [{ artifactTypeCode: 'BP', name: 'bp', uri: 'org/../../admin/bp.json' }]);
    const error = await rejection(source().getSolution('incomplete-1', 'rev-1'));
    expect(error).toMatchObject({ code: 'solution_incomplete', status: 422 });
    expect(requestsTo('/nexus/')).toBe(0);
  });
});

function stubCdsSolution(toolkitTypeCode: string, artifacts: unknown[]): void {
  const basicAuth = { username: 'ccds_client', password: 'test' };
  fake.addStub({
    request: { url: '/ccds/solution/incomplete-1', method: 'GET', basicAuth },
    response: { status: 200, jsonBody: { solutionId: 'incomplete-1', name: 'Incomplete', toolkitTypeCode } },
  });
  fake.addStub({
    request: { url: '/ccds/revision/rev-1/artifact', method: 'GET', basicAuth },
    response: { status: 200, jsonBody: artifacts },
  });
}

/** A port nothing listens on: bind one, then close it. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
