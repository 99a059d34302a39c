import { AppError, UpstreamError } from '../../errors.js';

/**
 * Narrowing of what CDS and Nexus answer. Only the fields Slipway reads are checked; the rest of a
 * record passes through untouched. A record that lacks them is CDS "answering nonsense"
 * (UpstreamError); a solution whose artifacts are missing is the solution's fault (422).
 */
export interface CdsSolutionRecord {
  name: string;
  toolkitTypeCode: string | undefined;
}

export interface CdsArtifact {
  artifactTypeCode: string;
  name: string;
  uri: string;
}

/** Artifact type codes (CDS `artifactTypeCode`). */
export const ArtifactType = {
  blueprint: 'BP',
  dockerImage: 'DI',
  modelProto: 'MI',
} as const;

export function parseJson(system: string, what: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UpstreamError(system, `answered ${what} with a body that is not JSON`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function toSolutionRecord(body: unknown, solutionId: string): CdsSolutionRecord {
  if (!isRecord(body) || typeof body.name !== 'string') {
    throw new UpstreamError('CDS', `answered solution ${solutionId} without a name`);
  }
  const toolkit = body.toolkitTypeCode;
  return { name: body.name, toolkitTypeCode: typeof toolkit === 'string' ? toolkit : undefined };
}

/** Entries that are not artifact-shaped are skipped: CDS may add kinds Slipway has no use for. */
export function toArtifacts(body: unknown, revisionId: string): CdsArtifact[] {
  if (!Array.isArray(body)) {
    throw new UpstreamError('CDS', `answered the artifacts of revision ${revisionId} with something other than a list`);
  }
  const artifacts: CdsArtifact[] = [];
  for (const entry of body) {
    if (!isRecord(entry)) continue;
    const { artifactTypeCode, name, uri } = entry;
    if (typeof artifactTypeCode !== 'string' || typeof uri !== 'string') continue;
    artifacts.push({ artifactTypeCode: artifactTypeCode.toUpperCase(), name: typeof name === 'string' ? name : '', uri });
  }
  return artifacts;
}

export function findArtifact(artifacts: readonly CdsArtifact[], type: string): CdsArtifact | undefined {
  return artifacts.find((artifact) => artifact.artifactTypeCode === type && artifact.uri.trim() !== '');
}

export function missingArtifactError(type: string, revisionId: string): AppError {
  return new AppError('solution_incomplete', 422, `No ${type} type artifacts returned for revision ${revisionId}`);
}

/** A blueprint node whose proto Slipway must fetch from Nexus. */
export interface ProtoReference {
  containerName: string;
  protoUri: string;
}

/**
 * Nodes with a `proto_uri`, SharedFolder nodes excepted: their image is a placeholder, they are
 * never deployed nor given to the orchestrator, and Nexus often has nothing at their proto_uri.
 * Blueprint validation lives in domain/blueprint; a malformed blueprint just yields fewer refs here.
 */
export function protoReferences(blueprint: unknown): ProtoReference[] {
  if (!isRecord(blueprint) || !Array.isArray(blueprint.nodes)) return [];
  const refs: ProtoReference[] = [];
  for (const node of blueprint.nodes) {
    if (!isRecord(node) || node.node_type === 'SharedFolder') continue;
    const { container_name: containerName, proto_uri: protoUri } = node;
    if (typeof containerName !== 'string' || typeof protoUri !== 'string' || protoUri.trim() === '') continue;
    refs.push({ containerName, protoUri });
  }
  return refs;
}

/**
 * `{nexus url}/{artifact uri}` with each segment percent-encoded. The uri comes from CDS or a
 * blueprint, so `.`/`..` segments and absolute URLs are refused rather than resolved.
 */
export function nexusArtifactUrl(nexusUrl: string, uri: string): string {
  const segments = uri.trim().replace(/^\/+/, '').split('/');
  const unsafe = /^[a-z][a-z0-9+.-]*:/i.test(uri.trim()) || segments.some((s) => s === '' || s === '.' || s === '..');
  if (unsafe) {
    throw new AppError('solution_incomplete', 422, `The Nexus artifact path ${JSON.stringify(uri)} is not a plain relative path`);
  }
  return `${nexusUrl.replace(/\/+$/, '')}/${segments.map(encodeURIComponent).join('/')}`;
}
