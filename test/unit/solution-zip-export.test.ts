import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import AdmZip from 'adm-zip';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { readOrchestratorProto } from '../../src/adapters/orchestrator/proto.js';
import type { PipelineSolution, Solution } from '../../src/domain/solution.js';
import { BlueprintInvalidError } from '../../src/errors.js';
import { renderForConfig } from '../../src/services/manifests.js';
import { assetPath, readAsset } from '../../src/services/solution-zip/assets.js';
import { buildSolutionZip } from '../../src/services/solution-zip/export.js';
import { readSolutionZip } from '../../src/services/solution-zip/import.js';
import { loadFixtureSolution, type FixtureSolutionName } from '../support/fixture-solutions.js';
import { assertValidKubernetesObject } from '../support/k8s-schema.js';

const GOLDEN_DIR = fileURLToPath(new URL('./golden/zip/', import.meta.url));

/** Each fixture is exported with other settings, so the golden files cover them. */
const CONFIG_ENV: Record<FixtureSolutionName, Record<string, string>> = {
  simple: {},
  sudoku: { IMAGE_PULL_SECRET: 'acumos-registry' },
  'shared-folder': { SHARED_FOLDER_STORAGE_CLASS: 'nfs-client', SHARED_FOLDER_SIZE: '5Gi' },
};

/** Files every zip carries unchanged; the golden files list them but compare them to their source. */
const SHARED_FILES: Record<string, () => string> = {
  'deploy.sh': () => readAsset('deploy.sh'),
  'orchestrator_client/orchestrator_client.py': () => readAsset('orchestrator_client.py'),
  'protobuf/orchestrator.proto': () => readOrchestratorProto(),
};

function configFor(env: Record<string, string>): Config {
  return loadConfig({ SOLUTION_SOURCE: 'local', DATA_DIR: '/tmp/slipway-zip-test', ...env });
}

function unzip(zip: Buffer): Map<string, { text: string; mode: number }> {
  const files = new Map<string, { text: string; mode: number }>();
  for (const entry of new AdmZip(zip).getEntries()) {
    files.set(entry.entryName, { text: entry.getData().toString('utf8'), mode: (entry.header.attr >>> 16) & 0o777 });
  }
  return files;
}

function exportFixture(name: FixtureSolutionName): Map<string, { text: string; mode: number }> {
  return unzip(buildSolutionZip(loadFixtureSolution(name), configFor(CONFIG_ENV[name])));
}

function goldenText(files: Map<string, { text: string; mode: number }>): string {
  return [...files]
    .map(([path, file]) => {
      const header = `=== ${path} (${file.mode.toString(8)})`;
      if (path in SHARED_FILES) return `${header}: shared asset\n`;
      return `${header}\n${file.text}${file.text.endsWith('\n') ? '' : '\n(no newline at end of file)\n'}`;
    })
    .join('');
}

function compareWithGolden(file: string, actual: string): void {
  const goldenPath = `${GOLDEN_DIR}${file}`;
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(goldenPath, actual);
    return;
  }
  if (!existsSync(goldenPath)) throw new Error(`golden file zip/${file} is missing: run UPDATE_GOLDEN=1 npx vitest run test/unit/solution-zip-export.test.ts`);
  expect(actual).toBe(readFileSync(goldenPath, 'utf8'));
}

function yamlObjects(text: string): unknown[] {
  return parseAllDocuments(text).map((document) => document.toJS() as unknown);
}

function manifestsIn(files: Map<string, { text: string }>): unknown[] {
  return [...files].filter(([path]) => path.startsWith('deployments/')).flatMap(([, file]) => yamlObjects(file.text));
}

const FIXTURES: FixtureSolutionName[] = ['simple', 'sudoku', 'shared-folder'];

describe('solution.zip export', () => {
  it.each(FIXTURES)('matches the golden file list and contents for %s', (name) => {
    const files = exportFixture(name);
    compareWithGolden(`${name}.txt`, goldenText(files));
    for (const [path, read] of Object.entries(SHARED_FILES)) {
      if (files.has(path)) expect(files.get(path)?.text, path).toBe(read());
    }
  });

  it('lays out a pipeline as the reference deployers do, plus solution.json and source-blueprint.json', () => {
    const files = exportFixture('shared-folder');
    expect([...files.keys()].sort()).toEqual(
      [
        'blueprint.json',
        'deploy.sh',
        'deployment-readme.txt',
        'deployments/news-classifier1_deployment.yaml',
        'deployments/news-classifier1_service.yaml',
        'deployments/newstrainer1_deployment.yaml',
        'deployments/newstrainer1_service.yaml',
        'deployments/orchestrator_deployment.yaml',
        'deployments/orchestrator_service.yaml',
        'deployments/pvc.yaml',
        'deployments/tensorboard1_deployment.yaml',
        'deployments/tensorboard1_service.yaml',
        'dockerinfo.json',
        'microservice/news-classifier1.proto',
        'microservice/newstrainer1.proto',
        'microservice/tensorboard1.proto',
        'orchestrator_client/orchestrator_client.py',
        'protobuf/orchestrator.proto',
        'solution.json',
        'source-blueprint.json',
      ].sort(),
    );
    const blueprint = JSON.parse(files.get('blueprint.json')?.text ?? '') as { nodes: Array<{ node_type: string }> };
    expect(blueprint.nodes.map((node) => node.node_type)).not.toContain('SharedFolder');
    const source = JSON.parse(files.get('source-blueprint.json')?.text ?? '') as { nodes: Array<{ node_type: string }> };
    expect(source.nodes.map((node) => node.node_type)).toContain('SharedFolder');
    expect(files.get('deploy.sh')?.mode).toBe(0o755);
    expect(files.get('blueprint.json')?.mode).toBe(0o644);
  });

  it('writes no source-blueprint.json when the blueprint has no shared folder', () => {
    const files = exportFixture('sudoku');
    expect(files.has('source-blueprint.json')).toBe(false);
    expect(files.has('deployments/pvc.yaml')).toBe(false);
  });

  it('lays out a single model with service.yaml, deployment.yaml, modelname.txt and its proto', () => {
    const simple = loadFixtureSolution('simple');
    const withProto: Solution = { ...simple, kind: 'model', proto: 'syntax = "proto3";\nmessage Text { string text = 1; }\n' } as Solution;
    const files = unzip(buildSolutionZip(withProto, configFor({})));
    expect([...files.keys()].sort()).toEqual(
      ['deploy.sh', 'deployment-readme.txt', 'deployments/deployment.yaml', 'deployments/service.yaml', 'microservice/entityrecognizer.proto', 'modelname.txt', 'solution.json'].sort(),
    );
    expect(files.get('modelname.txt')?.text).toBe('entityrecognizer\n');
  });

  it.each(FIXTURES)('ships manifests for %s that pass the Kubernetes schema checks and carry no namespace', (name) => {
    const objects = manifestsIn(exportFixture(name));
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) {
      assertValidKubernetesObject(object);
      expect((object as { metadata: Record<string, unknown> }).metadata.namespace).toBeUndefined();
    }
  });

  it.each(FIXTURES)('ships for %s exactly the objects Slipway applies, less the Namespace and the namespace field', (name) => {
    const solution = loadFixtureSolution(name);
    const config = configFor(CONFIG_ENV[name]);
    const applied = renderForConfig(solution, config, 'any-namespace').objects.filter((object) => object.kind !== 'Namespace');
    const expected = applied.map((object) => {
      const copy = JSON.parse(JSON.stringify(object)) as { metadata: Record<string, unknown> };
      delete copy.metadata.namespace;
      return copy;
    });
    const key = (object: unknown): string => JSON.stringify([(object as { kind: string }).kind, (object as { metadata: { name: string } }).metadata.name]);
    const shipped = manifestsIn(exportFixture(name));
    expect(shipped.map(key).sort()).toEqual(expected.map(key).sort());
    for (const object of expected) expect(shipped.find((candidate) => key(candidate) === key(object))).toEqual(object);
  });

  it('is deterministic: the same solution gives the same bytes', () => {
    const solution = loadFixtureSolution('sudoku');
    expect(buildSolutionZip(solution, configFor({})).equals(buildSolutionZip(solution, configFor({})))).toBe(true);
  });

  it('refuses a node whose container_name cannot be a file name', () => {
    const sudoku = loadFixtureSolution('sudoku') as PipelineSolution;
    const blueprint = structuredClone(sudoku.blueprint) as { nodes: Array<Record<string, unknown>> };
    const node = blueprint.nodes[0] as Record<string, unknown>;
    const original = node.container_name as string;
    node.container_name = '../escape';
    const protos = { ...sudoku.protos, '../escape': sudoku.protos[original] ?? '' };
    expect(() => buildSolutionZip({ ...sudoku, blueprint, protos }, configFor({}))).toThrow(BlueprintInvalidError);
  });

  it.each(FIXTURES)('exports %s so that importing it back renders the same manifests', (name) => {
    const solution = loadFixtureSolution(name);
    const config = configFor(CONFIG_ENV[name]);
    const { solution: imported, warnings } = readSolutionZip(buildSolutionZip(solution, config));
    expect(warnings).toEqual([]);
    expect(imported.solutionId).toBe(solution.solutionId);
    expect(imported.name).toBe(solution.name);
    expect(imported.kind).toBe(solution.kind);
    // The revision id is derived from the content; everything else must come back as it was.
    const again = renderForConfig(imported, config, 'round-trip');
    const original = renderForConfig({ ...solution, revisionId: imported.revisionId }, config, 'round-trip');
    expect(again).toEqual(original);
  });
});

describe('deploy.sh and orchestrator_client.py', () => {
  it('deploy.sh is valid bash', () => {
    const result = spawnSync('bash', ['-n', assetPath('deploy.sh')], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  const shellcheck = ['/usr/bin/shellcheck', '/usr/local/bin/shellcheck'].find((candidate) => existsSync(candidate));
  if (shellcheck === undefined && process.env.CI === 'true') {
    it('shellcheck is installed (required in CI)', () => {
      throw new Error('shellcheck is not installed: CI must install it (apt-get install shellcheck)');
    });
  } else if (shellcheck === undefined) {
    console.warn('shellcheck not found: skipping the shellcheck test of deploy.sh (apt-get install shellcheck)');
  }
  it.skipIf(shellcheck === undefined)('deploy.sh passes shellcheck', () => {
    const result = spawnSync(shellcheck ?? 'shellcheck', ['--shell=bash', assetPath('deploy.sh')], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  const python = spawnSync('python3', ['--version']).status === 0;
  it.skipIf(!python)('orchestrator_client.py prints, without grpcio, the initialize request Slipway itself would send', () => {
    const solution = loadFixtureSolution('sudoku');
    const config = configFor({});
    const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-zip-'));
    try {
      new AdmZip(buildSolutionZip(solution, config)).extractAllTo(dir);
      const body = JSON.parse(
        execFileSync('python3', ['orchestrator_client/orchestrator_client.py', '--print-initialize-body'], { cwd: dir, encoding: 'utf8' }),
      ) as { blueprint: string; dockerinfo: string; protofiles: Record<string, string>; queuesize: number; iterations: number };
      const rendered = renderForConfig(solution, config, 'any-namespace');
      expect(JSON.parse(body.blueprint)).toEqual(rendered.orchestratorBlueprint);
      expect(JSON.parse(body.dockerinfo)).toEqual(rendered.dockerinfo);
      expect(body.protofiles).toEqual(rendered.protos);
      expect([body.queuesize, body.iterations]).toEqual([0, 0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
