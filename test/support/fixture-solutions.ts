/**
 * Solutions built straight from the Graphene WireMock stubs in test/fixtures/graphene/, the way a
 * SolutionSource would assemble them from CDS and Nexus: solution from the CDS solution stub,
 * revision and artifacts from the artifact-list stub, blueprint from the Nexus stub the `BP`
 * artifact's uri points to, and each node's proto from the Nexus stub its `proto_uri` points to.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Solution } from '../../src/domain/solution.js';

export type FixtureSolutionName = 'simple' | 'sudoku' | 'shared-folder';

const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/graphene/', import.meta.url));

const CDS_FILES: Record<FixtureSolutionName, { solution: string; artifacts: string }> = {
  simple: { solution: 'cds_simple_solution.json', artifacts: 'cds_simple_solution_artifact.json' },
  sudoku: { solution: 'cds_composite_solution.json', artifacts: 'cds_composite_solution_artifact.json' },
  'shared-folder': { solution: 'cds_shared_folder_solution.json', artifacts: 'cds_shared_folder_solution_artifact.json' },
};

type JsonObject = Record<string, unknown>;

function asObject(value: unknown, what: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what} is not an object`);
  return value as JsonObject;
}

function asString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what} is not a string`);
  return value;
}

interface Stub {
  url: string;
  response: JsonObject;
}

function readStub(file: string): Stub {
  const stub = asObject(JSON.parse(readFileSync(`${FIXTURE_DIR}${file}`, 'utf8')), file);
  const request = asObject(stub.request, `${file} request`);
  return { url: asString(request.url, `${file} request.url`), response: asObject(stub.response, `${file} response`) };
}

/** Every Nexus stub, keyed by the artifact path it serves (its URL without `/nexus/`). */
function nexusStubsByPath(): Map<string, JsonObject> {
  const stubs = new Map<string, JsonObject>();
  for (const file of readdirSync(FIXTURE_DIR).filter((name) => name.startsWith('nexus_')).sort()) {
    const stub = readStub(file);
    stubs.set(stub.url.replace(/^\/nexus\//, ''), stub.response);
  }
  return stubs;
}

interface Artifact {
  typeCode: string;
  name: string;
  uri: string;
}

function readArtifacts(file: string): { revisionId: string; artifacts: Artifact[] } {
  const stub = readStub(file);
  const revisionId = /\/revision\/([^/]+)\/artifact$/.exec(stub.url)?.[1];
  if (revisionId === undefined) throw new Error(`${file}: no revision id in ${stub.url}`);
  const list = stub.response.jsonBody;
  if (!Array.isArray(list)) throw new Error(`${file}: jsonBody is not a list`);
  const artifacts = list.map((entry: unknown, index) => {
    const artifact = asObject(entry, `${file} artifact ${index}`);
    return {
      typeCode: asString(artifact.artifactTypeCode, 'artifactTypeCode'),
      name: asString(artifact.name, 'name'),
      uri: asString(artifact.uri, 'uri'),
    };
  });
  return { revisionId, artifacts };
}

function artifactOfType(artifacts: readonly Artifact[], typeCode: string): Artifact {
  const artifact = artifacts.find((candidate) => candidate.typeCode === typeCode);
  if (!artifact) throw new Error(`no ${typeCode} artifact`);
  return artifact;
}

/** Proto text of every blueprint node whose proto_uri has a Nexus stub. */
function protosFor(blueprint: JsonObject, nexus: Map<string, JsonObject>): Record<string, string> {
  const protos: Record<string, string> = {};
  const nodes = Array.isArray(blueprint.nodes) ? blueprint.nodes : [];
  for (const entry of nodes) {
    const node = asObject(entry, 'blueprint node');
    if (typeof node.proto_uri !== 'string') continue;
    const body = nexus.get(node.proto_uri)?.body;
    if (typeof body === 'string') protos[asString(node.container_name, 'container_name')] = body;
  }
  return protos;
}

export function loadFixtureSolution(name: FixtureSolutionName): Solution {
  const files = CDS_FILES[name];
  const cds = asObject(readStub(files.solution).response.jsonBody, `${files.solution} jsonBody`);
  const solutionId = asString(cds.solutionId, 'solutionId');
  const solutionName = asString(cds.name, 'name');
  const { revisionId, artifacts } = readArtifacts(files.artifacts);

  if (cds.toolkitTypeCode !== 'CP') {
    const dockerImage = artifactOfType(artifacts, 'DI');
    // The MI proto's Nexus file is not stubbed: this model has no proto.
    return { kind: 'model', solutionId, revisionId, name: solutionName, containerName: dockerImage.name, image: dockerImage.uri };
  }
  const nexus = nexusStubsByPath();
  const blueprintUri = artifactOfType(artifacts, 'BP').uri;
  const blueprintStub = nexus.get(blueprintUri);
  if (!blueprintStub) throw new Error(`no Nexus stub for blueprint ${blueprintUri}`);
  const blueprint = asObject(blueprintStub.jsonBody, 'blueprint');
  return { kind: 'pipeline', solutionId, revisionId, name: solutionName, blueprint, protos: protosFor(blueprint, nexus) };
}
