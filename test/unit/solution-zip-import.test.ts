import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import AdmZip from 'adm-zip';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalSolutionSource } from '../../src/adapters/local-solutions/local-solution-source.js';
import { loadConfig } from '../../src/config.js';
import type { PipelineSolution } from '../../src/domain/solution.js';
import { ValidationError } from '../../src/errors.js';
import { buildSolutionZip } from '../../src/services/solution-zip/export.js';
import { readSolutionZip, solutionIdFromName } from '../../src/services/solution-zip/import.js';
import { importSolutionZip } from '../../src/services/solution-zip/service.js';
import { DEFAULT_ZIP_LIMITS } from '../../src/services/solution-zip/zip-archive.js';
import { loadFixtureSolution } from '../support/fixture-solutions.js';
import { handmadeZip, UNIX_SYMLINK, type HandmadeEntry } from '../support/handmade-zip.js';

const config = loadConfig({ SOLUTION_SOURCE: 'local', DATA_DIR: '/tmp/slipway-zip-test' });

function exported(name: 'simple' | 'sudoku' | 'shared-folder'): Buffer {
  return buildSolutionZip(loadFixtureSolution(name), config);
}

/** The problems a refused zip is reported with; fails the test when the zip is accepted. */
function problemsOf(zip: Buffer, limits = DEFAULT_ZIP_LIMITS): string[] {
  try {
    readSolutionZip(zip, limits);
  } catch (error: unknown) {
    if (error instanceof ValidationError) {
      expect(error.status).toBe(400);
      return (error.extra.problems as string[] | undefined) ?? [error.message];
    }
    throw error;
  }
  throw new Error('the zip was accepted');
}

/** A minimal valid pipeline, as handmade entries, for hostile variations. */
function pipelineEntries(): HandmadeEntry[] {
  const blueprint = {
    name: 'Tiny',
    nodes: [{ container_name: 'model1', node_type: 'MLModel', image: 'registry.example/model:1', operation_signature_list: [] }],
  };
  return [{ name: 'blueprint.json', content: JSON.stringify(blueprint) }];
}

describe('readSolutionZip: the archive', () => {
  it('accepts the minimal pipeline the hostile cases start from', () => {
    expect(readSolutionZip(handmadeZip(pipelineEntries())).solution.kind).toBe('pipeline');
  });

  it('refuses bytes that are not a zip', () => {
    expect(problemsOf(Buffer.from('PK but not really a zip file'))).toEqual(['solution.zip is not a zip file (no end of central directory record)']);
  });

  it('refuses more entries than the limit, from the end record alone', () => {
    const zip = handmadeZip(pipelineEntries(), { declaredEntryCount: 1001 });
    expect(problemsOf(zip)).toEqual(['solution.zip has 1001 entries; at most 1000 are accepted']);
  });

  it('refuses more entries than the limit when they are really there', () => {
    const zip = new AdmZip();
    for (let index = 0; index < 21; index++) zip.addFile(`extra/${index}.txt`, Buffer.from('x'));
    expect(problemsOf(zip.toBuffer(), { ...DEFAULT_ZIP_LIMITS, maxEntries: 20 })).toContain('solution.zip has 21 entries; at most 20 are accepted');
  });

  it('refuses an archive that would unpack to more than the total limit', () => {
    const big = Buffer.alloc(300 * 1024, 'a');
    const entries = [...pipelineEntries(), { name: 'a.bin', content: big, method: 0 }, { name: 'b.bin', content: big, method: 0 }];
    expect(problemsOf(handmadeZip(entries), { ...DEFAULT_ZIP_LIMITS, maxTotalUncompressedBytes: 512 * 1024 })).toEqual([
      'solution.zip would unpack to 0.6 MiB; at most 0.5 MiB are accepted',
    ]);
  });

  it('refuses an entry compressed more than 100:1 (a zip bomb)', () => {
    const zip = new AdmZip();
    zip.addFile('blueprint.json', Buffer.from(JSON.stringify({ nodes: [] })));
    zip.addFile('padding.bin', Buffer.alloc(8 * 1024 * 1024));
    const [problem] = problemsOf(zip.toBuffer());
    expect(problem).toMatch(/^solution\.zip "padding\.bin": compression ratio \d+:1 is over the limit of 100:1$/);
  });

  it('refuses a bomb whose header lies about its size: decompression stops at the declared size', () => {
    const bomb = deflateRawSync(Buffer.alloc(16 * 1024 * 1024));
    const zip = handmadeZip([{ name: 'blueprint.json', rawData: bomb, method: 8, declaredSize: 64, crc: 0 }]);
    const problems = problemsOf(zip);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^blueprint\.json cannot be unpacked \(.*\): its content does not match its header$/);
  });

  it('refuses an entry that unpacks to less than it declares', () => {
    const content = Buffer.from('{"nodes": []}');
    const zip = handmadeZip([{ name: 'blueprint.json', rawData: deflateRawSync(content), method: 8, declaredSize: 1000 }]);
    expect(problemsOf(zip)[0]).toMatch(/^blueprint\.json (unpacks to 13 bytes but its header declares 1000|cannot be unpacked)/);
  });

  it('refuses an absolute path', () => {
    expect(problemsOf(handmadeZip([...pipelineEntries(), { name: '/etc/passwd', content: 'x' }]))).toEqual([
      'solution.zip "/etc/passwd": the path is an absolute path',
    ]);
  });

  it('refuses a path that climbs out with ".."', () => {
    expect(problemsOf(handmadeZip([...pipelineEntries(), { name: 'microservice/../../evil.proto', content: 'x' }]))).toEqual([
      'solution.zip "microservice/../../evil.proto": the path contains ".."',
    ]);
  });

  it('refuses backslashes', () => {
    expect(problemsOf(handmadeZip([...pipelineEntries(), { name: 'microservice\\evil.proto', content: 'x' }]))).toEqual([
      'solution.zip "microservice\\\\evil.proto": the path contains a backslash',
    ]);
  });

  it('refuses a drive letter', () => {
    expect(problemsOf(handmadeZip([...pipelineEntries(), { name: 'C:evil.txt', content: 'x' }]))).toEqual([
      'solution.zip "C:evil.txt": the path starts with a drive letter',
    ]);
  });

  it('refuses a symbolic link entry', () => {
    const zip = handmadeZip([...pipelineEntries(), { name: 'microservice/model1.proto', content: '/etc/passwd', method: 0, externalAttributes: UNIX_SYMLINK }]);
    expect(problemsOf(zip)).toEqual([
      'solution.zip "microservice/model1.proto": is a symbolic link; only regular files and folders are accepted',
    ]);
  });

  it('refuses two entries with the same name', () => {
    const zip = handmadeZip([...pipelineEntries(), { name: 'blueprint.json', content: '{}' }]);
    expect(problemsOf(zip)).toEqual(['solution.zip cannot be read: Duplicate entry name "blueprint.json"']);
  });

  it('refuses names that differ only in case', () => {
    const zip = handmadeZip([...pipelineEntries(), { name: 'Blueprint.JSON', content: '{}' }]);
    expect(problemsOf(zip)).toEqual(['solution.zip "Blueprint.JSON": duplicates "blueprint.json" (names are compared ignoring case)']);
  });

  it('refuses an encrypted entry', () => {
    const zip = handmadeZip([...pipelineEntries(), { name: 'secret.txt', content: 'x', flags: 0x0801 }]);
    expect(problemsOf(zip)).toEqual(['solution.zip "secret.txt": is encrypted']);
  });

  it('refuses compression methods other than stored and deflate', () => {
    const zip = handmadeZip([...pipelineEntries(), { name: 'data.bz2', rawData: Buffer.from('BZh9'), method: 12, declaredSize: 4 }]);
    expect(problemsOf(zip)).toEqual(['solution.zip "data.bz2": uses compression method 12; only stored (0) and deflate (8) are accepted']);
  });

  it('lists every problem of the archive at once', () => {
    const zip = handmadeZip([
      ...pipelineEntries(),
      { name: '/abs.txt', content: 'x' },
      { name: '../up.txt', content: 'x' },
      { name: 'link', content: 'target', method: 0, externalAttributes: UNIX_SYMLINK },
      { name: 'locked.txt', content: 'x', flags: 0x0801 },
    ]);
    expect(problemsOf(zip)).toEqual([
      'solution.zip "/abs.txt": the path is an absolute path',
      'solution.zip "../up.txt": the path contains ".."',
      'solution.zip "link": is a symbolic link; only regular files and folders are accepted',
      'solution.zip "locked.txt": is encrypted',
    ]);
  });
});

describe('readSolutionZip: the content', () => {
  it('reads a pipeline exported by Slipway with its ids, name and protos', () => {
    const { solution, warnings } = readSolutionZip(exported('sudoku'));
    const original = loadFixtureSolution('sudoku') as PipelineSolution;
    expect(warnings).toEqual([]);
    expect(solution).toMatchObject({ kind: 'pipeline', solutionId: original.solutionId, name: 'Sudoku Tutorial', protos: original.protos });
    expect(solution.revisionId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('derives the revision id from the content: same content, same id; other content, other id', () => {
    const first = readSolutionZip(exported('sudoku')).solution.revisionId;
    expect(readSolutionZip(exported('sudoku')).solution.revisionId).toBe(first);
    const sudoku = loadFixtureSolution('sudoku') as PipelineSolution;
    const changed = buildSolutionZip({ ...sudoku, protos: { ...sudoku.protos, 'sudoku-tutorial-gui1': 'syntax = "proto3";\n' } }, config);
    expect(readSolutionZip(changed).solution.revisionId).not.toBe(first);
  });

  it('reads a zip made by Graphene (no solution.json): the name from the blueprint, the id from the name', () => {
    const zip = new AdmZip(exported('sudoku'));
    zip.deleteFile('solution.json');
    const { solution } = readSolutionZip(zip.toBuffer());
    expect(solution.name).toBe('Sudoku Tutorial');
    expect(solution.solutionId).toBe('sudoku-tutorial');
  });

  it('reads a single model from modelname.txt and deployments/deployment.yaml', () => {
    const zip = new AdmZip(exported('simple'));
    zip.deleteFile('solution.json');
    const { solution } = readSolutionZip(zip.toBuffer());
    expect(solution).toMatchObject({
      kind: 'model',
      name: 'entityrecognizer',
      containerName: 'entityrecognizer',
      image: 'hub.cc-asp.fraunhofer.de/ai4media-public/named-entity-recognition-flair:1.0.0',
    });
  });

  it('finds the solution inside a single wrapping folder', () => {
    const source = new AdmZip(exported('sudoku'));
    const wrapped = new AdmZip();
    for (const entry of source.getEntries()) wrapped.addFile(`solution/${entry.entryName}`, entry.getData());
    wrapped.addFile('__MACOSX/solution/._blueprint.json', Buffer.from('resource fork'));
    expect(readSolutionZip(wrapped.toBuffer()).solution.name).toBe('Sudoku Tutorial');
  });

  it('refuses a pipeline whose node with a proto_uri has no proto', () => {
    const zip = new AdmZip(exported('sudoku'));
    zip.deleteFile('microservice/sudoku-tutorial-gui1.proto');
    expect(problemsOf(zip.toBuffer())).toEqual([
      'microservice/sudoku-tutorial-gui1.proto is missing: node "sudoku-tutorial-gui1" has a proto_uri, and the orchestrator needs its proto',
    ]);
  });

  it('lists every problem of an invalid blueprint, naming the file', () => {
    const blueprint = { nodes: [{ container_name: 'a', operation_signature_list: [] }, { node_type: 'MLModel', image: 'x', operation_signature_list: [] }] };
    const problems = problemsOf(handmadeZip([{ name: 'blueprint.json', content: JSON.stringify(blueprint) }]));
    expect(problems.length).toBeGreaterThanOrEqual(3);
    for (const problem of problems) expect(problem).toMatch(/^blueprint\.json: /);
  });

  it('refuses a blueprint that is not JSON, and a bad solution.json, in one answer', () => {
    const problems = problemsOf(
      handmadeZip([
        { name: 'blueprint.json', content: '{"nodes": [' },
        { name: 'solution.json', content: JSON.stringify({ name: 'X', kind: 'workflow', solutionId: '../x' }) },
      ]),
    );
    expect(problems).toEqual([
      'solution.json: "kind" must be "pipeline" or "model"',
      `solution.json: "solutionId" must be 1 to 100 characters from A-Z, a-z, 0-9, '.', '_' and '-'`,
      expect.stringMatching(/^blueprint\.json is not valid JSON/),
    ]);
  });

  it('refuses a zip that holds no solution', () => {
    expect(problemsOf(handmadeZip([{ name: 'readme.txt', content: 'hello' }]))).toEqual([
      'this is not a solution.zip: expected blueprint.json (a pipeline) or modelname.txt and deployments/deployment.yaml (a model) at its root',
    ]);
  });

  it('refuses a model without an image', () => {
    expect(problemsOf(handmadeZip([{ name: 'modelname.txt', content: 'mymodel\n' }]))).toEqual([
      'a model needs the image: from solution.json ("containerName", "image"), or from modelname.txt and the first container of deployments/deployment.yaml',
    ]);
  });

  it('refuses a proto that is not UTF-8 text', () => {
    const zip = new AdmZip(exported('sudoku'));
    zip.updateFile('microservice/sudoku-tutorial-gui1.proto', Buffer.from([0xff, 0xfe, 0x00, 0xc3]));
    expect(problemsOf(zip.toBuffer())).toEqual(['microservice/sudoku-tutorial-gui1.proto is not UTF-8 text']);
  });

  it('warns about protos of no node and about a shared folder it cannot recreate', () => {
    const zip = new AdmZip(exported('shared-folder'));
    zip.deleteFile('source-blueprint.json');
    zip.addFile('microservice/stranger.proto', Buffer.from('syntax = "proto3";\n'));
    expect(readSolutionZip(zip.toBuffer()).warnings).toEqual([
      'deployments/pvc.yaml is ignored: blueprint.json has no SharedFolder node, so the imported solution deploys without a shared folder',
      'microservice/stranger.proto is left out: no deployable node is named "stranger"',
    ]);
  });

  it('derives solution ids that are valid ids', () => {
    expect(solutionIdFromName('Sudoku Tutorial')).toBe('sudoku-tutorial');
    expect(solutionIdFromName('..')).toBe('imported-solution');
    expect(solutionIdFromName('Ünïcode & spaces_v1.0')).toBe('n-code-spaces_v1.0');
  });
});

describe('importSolutionZip', () => {
  let dir: string;
  let source: LocalSolutionSource;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'slipway-import-'));
    source = new LocalSolutionSource({ dirs: [dir] });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores the solution where the local source finds it, and a second import changes nothing', async () => {
    const first = await importSolutionZip(exported('shared-folder'), source);
    expect(first).toMatchObject({ solutionId: 'b979dabb-b461-47ae-8459-37b3f4be8851', name: 'news-training-pipeline', kind: 'pipeline', created: true });
    const stored = await source.getSolution(first.solutionId, first.revisionId);
    const original = loadFixtureSolution('shared-folder') as PipelineSolution;
    expect(stored).toEqual({ ...original, revisionId: first.revisionId });
    const second = await importSolutionZip(exported('shared-folder'), source);
    expect(second).toEqual({ ...first, created: false });
    expect(await readdir(path.join(dir, first.solutionId))).toEqual([first.revisionId]);
  });

  it('stores a model with its container name and image', async () => {
    const result = await importSolutionZip(exported('simple'), source);
    expect(await source.getSolution(result.solutionId, result.revisionId)).toEqual({ ...loadFixtureSolution('simple'), revisionId: result.revisionId });
  });

  it('writes nothing when the zip is refused', async () => {
    const hostile = handmadeZip([...pipelineEntries(), { name: '../escape.txt', content: 'x' }]);
    await expect(importSolutionZip(hostile, source)).rejects.toBeInstanceOf(ValidationError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('leaves nothing half-written when writing fails', async () => {
    // A file where the solution's folder should be makes the final step fail.
    await writeFile(path.join(dir, 'b979dabb-b461-47ae-8459-37b3f4be8851'), 'in the way');
    await expect(importSolutionZip(exported('shared-folder'), source)).rejects.toThrow();
    expect(await readdir(path.join(dir, '.imports'))).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['.imports', 'b979dabb-b461-47ae-8459-37b3f4be8851']);
  });
});
