import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSync, type PackageDefinition, type ProtobufTypeDefinition, type ServiceDefinition } from '@grpc/proto-loader';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CdsSolutionSource } from '../../src/adapters/cds/cds-solution-source.js';
import { LocalSolutionSource } from '../../src/adapters/local-solutions/local-solution-source.js';
import { bundledExamplesDir, CachedSolutionSource, createSolutionSource, createSolutionSources, LayeredSolutionSource } from '../../src/adapters/solution-source.js';
import { loadConfig } from '../../src/config.js';
import type { PipelineSolution } from '../../src/domain/solution.js';
import { AppError, NotFoundError, ValidationError } from '../../src/errors.js';

const EXAMPLE = { solutionId: 'slipway-example-pipeline', revisionId: '1.0.0' };

let writable: string;

beforeEach(async () => {
  writable = await mkdtemp(path.join(tmpdir(), 'slipway-solutions-'));
});
afterEach(async () => {
  await rm(writable, { recursive: true, force: true });
});

function examplesDir(): string {
  const dir = bundledExamplesDir();
  if (dir === undefined) throw new Error('examples/solutions not found next to the sources');
  return dir;
}

/** Write `files` (relative path → content) under `<writable>/<solutionId>/<revisionId>/`. */
async function writeRevision(solutionId: string, revisionId: string, files: Record<string, string>): Promise<void> {
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(writable, solutionId, revisionId, file);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected the call to fail'),
    (error: unknown) => error,
  );
}

async function loadExample(): Promise<PipelineSolution> {
  const solution = await new LocalSolutionSource({ dirs: [writable, examplesDir()] }).getSolution(EXAMPLE.solutionId, EXAMPLE.revisionId);
  if (solution.kind !== 'pipeline') throw new Error(`expected a pipeline, got ${solution.kind}`);
  return solution;
}

interface ExampleNode {
  container_name: string;
  node_type: string;
  operation_signature_list: Array<{
    operation_signature: { operation_name: string; input_message_name: string; output_message_name: string };
    connected_to: Array<{ container_name: string; operation_signature: { operation_name: string } }>;
  }>;
}

describe('the bundled example pipeline', () => {
  it('loads as a pipeline with a blueprint and a proto per model node', async () => {
    const solution = await loadExample();
    expect(solution).toMatchObject({ ...EXAMPLE, kind: 'pipeline', name: 'Slipway Example Pipeline' });
    const nodes = (solution.blueprint as { nodes: ExampleNode[] }).nodes;
    expect(nodes.map((node) => node.container_name)).toEqual(['/data/shared', 'text-source1', 'word-counter1']);
    expect(Object.keys(solution.protos).sort()).toEqual(['text-source1', 'word-counter1']);
  });

  it('connects its SharedFolder to both models and every link to an existing operation', async () => {
    const nodes = ((await loadExample()).blueprint as { nodes: ExampleNode[] }).nodes;
    const operations = new Set(nodes.flatMap((node) => node.operation_signature_list.map((op) => `${node.container_name}.${op.operation_signature.operation_name}`)));
    const links = nodes.flatMap((node) => node.operation_signature_list.flatMap((op) => op.connected_to));
    for (const link of links) expect(operations, link.container_name).toContain(`${link.container_name}.${link.operation_signature.operation_name}`);
    const shared = nodes.find((node) => node.node_type === 'SharedFolder');
    expect(shared?.operation_signature_list[0]?.connected_to).toEqual([
      { container_name: 'text-source1', operation_signature: { operation_name: 'mountVolume' } },
      { container_name: 'word-counter1', operation_signature: { operation_name: 'mountVolume' } },
    ]);
  });

  it('has protos the orchestrator can merge: proto3, no package or enum, shared messages identical, rpcs matching the blueprint', async () => {
    const solution = await loadExample();
    const protoDir = path.join(examplesDir(), EXAMPLE.solutionId, EXAMPLE.revisionId, 'microservice');
    const definitions = new Map<string, PackageDefinition>();
    for (const [name, text] of Object.entries(solution.protos)) {
      expect(text).toMatch(/^syntax = "proto3";/);
      expect(text).not.toMatch(/^\s*(package|enum)\s/m);
      definitions.set(name, loadSync(path.join(protoDir, `${name}.proto`)));
    }
    const messages = new Map<string, string>();
    for (const definition of definitions.values()) {
      for (const [name, entry] of Object.entries(definition)) {
        if (!('format' in entry)) continue;
        const shape = JSON.stringify((entry as ProtobufTypeDefinition).type);
        expect(messages.get(name) ?? shape, `message ${name} differs between protos`).toBe(shape);
        messages.set(name, shape);
      }
    }
    for (const node of ((solution.blueprint as { nodes: ExampleNode[] }).nodes).filter((n) => n.node_type !== 'SharedFolder')) {
      const definition = definitions.get(node.container_name) ?? {};
      const rpcs = Object.values(definition).filter((entry): entry is ServiceDefinition => !('format' in entry));
      for (const { operation_signature: op } of node.operation_signature_list) {
        const rpc = rpcs.map((service) => service[op.operation_name]).find((method) => method !== undefined);
        expect(rpc, `${node.container_name}.${op.operation_name}`).toBeDefined();
        expect(messageName(rpc?.requestType.type)).toBe(op.input_message_name);
        expect(messageName(rpc?.responseType.type)).toBe(op.output_message_name);
      }
    }
  });
});

/** A DescriptorProto's `name` (proto-loader types it as a bare object). */
function messageName(descriptor: object | undefined): unknown {
  return descriptor !== undefined && 'name' in descriptor ? descriptor.name : undefined;
}

describe('LocalSolutionSource', () => {
  it('refuses traversal and other unsafe ids before touching the disk', async () => {
    const source = new LocalSolutionSource({ dirs: [writable, examplesDir()] });
    const attempts = [['..', '1.0.0'], ['slipway-example-pipeline', '..'], ['../slipway-example-pipeline', '1.0.0'], ['a/b', 'c'], ['x', '..\\..'], ['%2e%2e', 'x'], ['', 'x']] as const;
    for (const [solutionId, revisionId] of attempts) {
      const error = await rejection(source.getSolution(solutionId, revisionId));
      expect(error, `${solutionId} / ${revisionId}`).toBeInstanceOf(ValidationError);
    }
  });

  it('answers solution_not_found and revision_not_found', async () => {
    const source = new LocalSolutionSource({ dirs: [writable, examplesDir()] });
    const missingSolution = await rejection(source.getSolution('no-such-solution', '1'));
    expect(missingSolution).toBeInstanceOf(NotFoundError);
    expect(missingSolution).toMatchObject({ code: 'solution_not_found', status: 404 });
    expect(await rejection(source.getSolution(EXAMPLE.solutionId, '9.9.9'))).toMatchObject({ code: 'revision_not_found', status: 404 });
  });

  it('names the broken file, relative to the solutions folder', async () => {
    await writeRevision('broken', '1', { 'solution.json': '{"name": "Broken", "kind": "pipeline"}', 'blueprint.json': '{"nodes": [' });
    const error = await rejection(new LocalSolutionSource({ dirs: [writable] }).getSolution('broken', '1'));
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'solution_incomplete', status: 422 });
    expect((error as Error).message).toMatch(/^broken\/1\/blueprint\.json is not valid JSON/);
    expect((error as Error).message).not.toContain(writable);
  });

  it.each([
    ['{"kind": "pipeline"}', 'needs a non-empty "name"'],
    ['{"name": "M", "kind": "model", "containerName": "m"}', 'needs non-empty "containerName" and "image"'],
    ['{"name": "M", "kind": "job"}', 'needs "kind"'],
    ['[]', 'must be a JSON object'],
  ])('rejects solution.json %s', async (manifest, problem) => {
    await writeRevision('bad', '1', { 'solution.json': manifest });
    const error = await rejection(new LocalSolutionSource({ dirs: [writable] }).getSolution('bad', '1'));
    expect(error).toMatchObject({ code: 'solution_incomplete' });
    expect((error as Error).message).toContain(`bad/1/solution.json ${problem}`);
  });

  it('names solution.json when a revision has neither it nor a blueprint', async () => {
    await writeRevision('empty', '1', { 'notes.txt': 'nothing here' });
    const error = await rejection(new LocalSolutionSource({ dirs: [writable] }).getSolution('empty', '1'));
    expect((error as Error).message).toContain('empty/1/solution.json is missing');
  });

  it('reads a model with its proto', async () => {
    await writeRevision('ner', '2', {
      'solution.json': JSON.stringify({ name: 'NER', kind: 'model', containerName: 'ner', image: 'registry.example/ner:2' }),
      'microservice/ner.proto': 'syntax = "proto3";\n',
    });
    const solution = await new LocalSolutionSource({ dirs: [writable] }).getSolution('ner', '2');
    expect(solution).toEqual({ solutionId: 'ner', revisionId: '2', kind: 'model', name: 'NER', containerName: 'ner', image: 'registry.example/ner:2', proto: 'syntax = "proto3";\n' });
  });

  it('reads an unzipped pipeline without solution.json, named after its blueprint', async () => {
    await writeRevision('unzipped', 'r1', { 'blueprint.json': '{"name": "From Zip", "nodes": []}', 'microservice/a1.proto': 'syntax = "proto3";' });
    const solution = await new LocalSolutionSource({ dirs: [writable] }).getSolution('unzipped', 'r1');
    expect(solution).toMatchObject({ kind: 'pipeline', name: 'From Zip', protos: { a1: 'syntax = "proto3";' } });
  });

  it('prefers the writable folder and lists every readable revision once, sorted by name', async () => {
    await writeRevision(EXAMPLE.solutionId, EXAMPLE.revisionId, { 'solution.json': '{"name": "Overridden", "kind": "pipeline"}', 'blueprint.json': '{}' });
    await writeRevision('aaa', '1', { 'solution.json': '{"name": "Another", "kind": "model", "containerName": "a", "image": "a:1"}' });
    await writeRevision('broken', '1', { 'solution.json': 'not json' });
    await writeRevision('.importing', '1', { 'solution.json': '{"name": "Half", "kind": "pipeline"}' });
    const source = new LocalSolutionSource({ dirs: [writable, examplesDir()] });
    expect((await source.getSolution(EXAMPLE.solutionId, EXAMPLE.revisionId)).name).toBe('Overridden');
    expect(await source.listSolutions()).toEqual([
      { solutionId: 'aaa', revisionId: '1', name: 'Another', kind: 'model' },
      { ...EXAMPLE, name: 'Overridden', kind: 'pipeline' },
    ]);
  });

  it('lists the example even when the writable folder does not exist yet', async () => {
    const source = new LocalSolutionSource({ dirs: [path.join(writable, 'not-created'), examplesDir()] });
    expect(await source.listSolutions()).toContainEqual({ ...EXAMPLE, name: 'Slipway Example Pipeline', kind: 'pipeline' });
  });
});

describe('createSolutionSource', () => {
  it('builds a local source over SOLUTIONS_DIR and the bundled examples, cached unless SOLUTION_CACHE=0', () => {
    const source = createSolutionSource(loadConfig({ SOLUTIONS_DIR: writable }));
    expect(source).toBeInstanceOf(CachedSolutionSource);
    const inner = (source as CachedSolutionSource).inner;
    expect(inner).toBeInstanceOf(LocalSolutionSource);
    expect((inner as LocalSolutionSource).dirs).toEqual([writable, examplesDir()]);
    expect(createSolutionSource(loadConfig({ SOLUTIONS_DIR: writable, SOLUTION_CACHE: '0' }))).toBeInstanceOf(LocalSolutionSource);
  });

  it('builds CDS behind the local folders when CDS is configured, so imports deploy too', () => {
    const config = loadConfig({ CDS_URL: 'http://cds-service:8000/ccds', NEXUS_URL: 'http://nexus:8081/repository/acumos', SOLUTION_CACHE: '0' });
    const { source, local } = createSolutionSources(config);
    expect(source).toBeInstanceOf(LayeredSolutionSource);
    expect(local).toBeInstanceOf(LocalSolutionSource);
    expect(createSolutionSource(config)).toBeInstanceOf(LayeredSolutionSource);
  });

  it('refuses a SOLUTION_CACHE that is not a duration', () => {
    expect(() => loadConfig({ SOLUTION_CACHE: 'a while' })).toThrow(/SOLUTION_CACHE="a while" must be a duration/);
  });
});

describe('CachedSolutionSource', () => {
  /** A solution source double that counts its fetches and can be told to fail. */
  function countingSource() {
    const calls: string[] = [];
    let failNext = false;
    const source = {
      calls,
      failNext: () => void (failNext = true),
      async getSolution(solutionId: string, revisionId: string) {
        calls.push(`${solutionId}/${revisionId}`);
        if (failNext) {
          failNext = false;
          throw new NotFoundError(`Solution ${solutionId} not found`, 'solution_not_found');
        }
        return { kind: 'model' as const, solutionId, revisionId, name: `n-${calls.length}`, containerName: 'm', image: 'registry.example.org/m:1' };
      },
    };
    return source;
  }

  it('fetches a revision once within its lifetime and again after it', async () => {
    let now = 1_000;
    const inner = countingSource();
    const cache = new CachedSolutionSource(inner, { ttlMs: 60_000, now: () => now });
    const first = await cache.getSolution('s', '1');
    now += 59_999;
    expect(await cache.getSolution('s', '1')).toEqual(first);
    expect(inner.calls).toEqual(['s/1']);
    now += 1;
    expect((await cache.getSolution('s', '1')).name).toBe('n-2');
    await cache.getSolution('s', '2');
    expect(inner.calls).toEqual(['s/1', 's/1', 's/2']);
  });

  it('keeps no failure: the next call asks again', async () => {
    const inner = countingSource();
    const cache = new CachedSolutionSource(inner, { ttlMs: 60_000 });
    inner.failNext();
    await expect(cache.getSolution('s', '1')).rejects.toBeInstanceOf(NotFoundError);
    expect((await cache.getSolution('s', '1')).solutionId).toBe('s');
    expect(inner.calls).toEqual(['s/1', 's/1']);
  });

  it('gives every caller its own copy', async () => {
    const cache = new CachedSolutionSource(countingSource(), { ttlMs: 60_000 });
    const first = await cache.getSolution('s', '1');
    first.name = 'changed by a caller';
    expect((await cache.getSolution('s', '1')).name).toBe('n-1');
  });

  it('shares one fetch between callers asking at once, and forgets the oldest beyond maxEntries', async () => {
    const inner = countingSource();
    const cache = new CachedSolutionSource(inner, { ttlMs: 60_000, maxEntries: 2 });
    const [a, b] = await Promise.all([cache.getSolution('s', '1'), cache.getSolution('s', '1')]);
    expect(a).toEqual(b);
    expect(inner.calls).toEqual(['s/1']);
    await cache.getSolution('s', '2');
    await cache.getSolution('s', '3');
    await cache.getSolution('s', '1');
    expect(inner.calls).toEqual(['s/1', 's/2', 's/3', 's/1']);
  });
});
