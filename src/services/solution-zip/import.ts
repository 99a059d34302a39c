/**
 * Importing a solution.zip, so a solution can be deployed without Graphene. Accepts what Slipway
 * exports (solution.json, source-blueprint.json) and what Graphene's own deployers produce
 * (blueprint.json or modelname.txt + deployments/deployment.yaml, microservice/*.proto).
 *
 * Checks, every problem reported at once in one ValidationError (400):
 * - the archive itself (zip-archive.ts) — when it fails, nothing else is looked at;
 * - a pipeline: blueprint.json must pass parseBlueprint, and every deployable node with a
 *   `proto_uri` needs microservice/<container_name>.proto. That one is an error, not a warning:
 *   the orchestrator refuses to initialize a pipeline with a node's proto missing, so the deploy
 *   would only fail later, after the pods had been started;
 * - a model: solution.json with containerName and image, or modelname.txt and
 *   deployments/deployment.yaml to take them from.
 * Warnings (the import goes ahead): protos for no node are left out; a Graphene-made zip with
 * deployments/pvc.yaml but no SharedFolder node loses its shared folder.
 *
 * Ids: the solution id comes from solution.json or is derived from the name; the revision id is
 * the start of a sha256 of the normalised content, so importing the same content again finds the
 * same revision, and an import can never replace a revision with different content.
 */
import { createHash } from 'node:crypto';
import { parseDocument } from 'yaml';
import { isSafeId } from '../../adapters/solution-ids.js';
import { parseBlueprint, type Blueprint } from '../../domain/blueprint.js';
import { ANNOTATION_KEYS } from '../../domain/manifests/labels.js';
import type { ModelSolution, PipelineSolution, Solution } from '../../domain/solution.js';
import { BlueprintInvalidError, ValidationError, errorMessage } from '../../errors.js';
import { ZIP_PATHS } from './layout.js';
import { DEFAULT_ZIP_LIMITS, openZipSafely, type SafeZip, type ZipLimits } from './zip-archive.js';

export interface ImportedSolution {
  solution: Solution;
  warnings: string[];
}

/** Hex characters of the sha256 kept as revision id (128 bits). */
const REVISION_ID_LENGTH = 32;
const MAX_NAME_LENGTH = 200;
const ROOT_MARKERS = [ZIP_PATHS.solution, ZIP_PATHS.blueprint, ZIP_PATHS.modelName];

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** What solution.json says, each field only when it is usable. */
interface ZipManifest {
  name?: string;
  kind?: Solution['kind'];
  solutionId?: string;
  containerName?: string;
  image?: string;
}

/** Everything the content checks collect. */
interface Findings {
  problems: string[];
  warnings: string[];
}

function parseJson(zip: SafeZip, path: string, findings: Findings): unknown {
  const raw = zip.readText(path, findings.problems);
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch (error: unknown) {
    findings.problems.push(`${path} is not valid JSON (${errorMessage(error)})`);
    return undefined;
  }
}

function readManifest(zip: SafeZip, findings: Findings): ZipManifest {
  if (!zip.has(ZIP_PATHS.solution)) return {};
  const body = parseJson(zip, ZIP_PATHS.solution, findings);
  if (body === undefined) return {};
  const at = (problem: string): void => void findings.problems.push(`${ZIP_PATHS.solution}: ${problem}`);
  if (!isObject(body)) {
    at('must be a JSON object');
    return {};
  }
  const manifest: ZipManifest = {};
  const name = text(body.name);
  if (name !== undefined) manifest.name = name;
  if (body.kind === 'pipeline' || body.kind === 'model') manifest.kind = body.kind;
  else if (body.kind !== undefined) at('"kind" must be "pipeline" or "model"');
  const solutionId = text(body.solutionId);
  if (solutionId !== undefined && isSafeId(solutionId)) manifest.solutionId = solutionId;
  else if (body.solutionId !== undefined) at(`"solutionId" must be 1 to 100 characters from A-Z, a-z, 0-9, '.', '_' and '-'`);
  const containerName = text(body.containerName);
  const image = text(body.image);
  if (containerName !== undefined) manifest.containerName = containerName;
  if (image !== undefined) manifest.image = image;
  return manifest;
}

/** microservice/<name>.proto files directly in microservice/, keyed by <name>. */
function protoFiles(zip: SafeZip): Map<string, string> {
  const protos = new Map<string, string>();
  for (const path of zip.files) {
    const name = path.slice(ZIP_PATHS.protoDir.length, -'.proto'.length);
    if (path.startsWith(ZIP_PATHS.protoDir) && path.endsWith('.proto') && name !== '' && !name.includes('/')) protos.set(name, path);
  }
  return protos;
}

function normaliseProto(proto: string): string {
  return proto.replace(/\r\n?/g, '\n');
}

function readPipeline(zip: SafeZip, manifest: ZipManifest, findings: Findings): Omit<PipelineSolution, 'solutionId' | 'revisionId'> | undefined {
  const blueprintPath = zip.has(ZIP_PATHS.sourceBlueprint) ? ZIP_PATHS.sourceBlueprint : ZIP_PATHS.blueprint;
  const blueprint = parseJson(zip, blueprintPath, findings);
  if (blueprint === undefined) return undefined;
  let parsed: Blueprint;
  try {
    parsed = parseBlueprint(blueprint);
  } catch (error: unknown) {
    if (!(error instanceof BlueprintInvalidError)) throw error;
    findings.problems.push(...error.problems.map((problem) => `${blueprintPath}: ${problem}`));
    return undefined;
  }
  if (parsed.sharedFolders.length === 0 && zip.has(ZIP_PATHS.sharedFolderClaims)) {
    findings.warnings.push(`${ZIP_PATHS.sharedFolderClaims} is ignored: ${blueprintPath} has no SharedFolder node, so the imported solution deploys without a shared folder`);
  }
  const available = protoFiles(zip);
  const protos: Record<string, string> = {};
  for (const node of parsed.deployableNodes) {
    const path = available.get(node.containerName);
    if (path !== undefined) {
      const proto = zip.readText(path, findings.problems);
      if (proto !== undefined) protos[node.containerName] = normaliseProto(proto);
    } else if (node.protoUri !== undefined) {
      findings.problems.push(`${ZIP_PATHS.protoDir}${node.containerName}.proto is missing: node "${node.containerName}" has a proto_uri, and the orchestrator needs its proto`);
    }
  }
  const nodeNames = new Set(parsed.deployableNodes.map((node) => node.containerName));
  for (const [name, path] of available) {
    if (!nodeNames.has(name)) findings.warnings.push(`${path} is left out: no deployable node is named "${name}"`);
  }
  const name = manifest.name ?? parsed.name?.trim() ?? 'Imported pipeline';
  return { kind: 'pipeline', name: name === '' ? 'Imported pipeline' : name, blueprint, protos };
}

/** Image and container name of the first container of the Deployment in deployments/deployment.yaml. */
function modelFromDeployment(zip: SafeZip, findings: Findings): { containerName?: string; image?: string } {
  const raw = zip.readText(ZIP_PATHS.modelDeployment, findings.problems);
  if (raw === undefined) return {};
  const document = parseDocument(raw);
  if (document.errors.length > 0) {
    findings.problems.push(`${ZIP_PATHS.modelDeployment} is not valid YAML (${document.errors[0]?.message ?? 'parse error'})`);
    return {};
  }
  const deployment: unknown = document.toJS({ maxAliasCount: 50 });
  const spec = isObject(deployment) && isObject(deployment.spec) && isObject(deployment.spec.template) ? deployment.spec.template.spec : undefined;
  const containers = isObject(spec) && Array.isArray(spec.containers) ? spec.containers : [];
  const container: unknown = containers[0];
  const metadata = isObject(deployment) && isObject(deployment.metadata) ? deployment.metadata : {};
  const annotations = isObject(metadata.annotations) ? metadata.annotations : {};
  const result: { containerName?: string; image?: string } = {};
  const containerName = text(annotations[ANNOTATION_KEYS.containerName]) ?? (isObject(container) ? text(container.name) : undefined);
  const image = isObject(container) ? text(container.image) : undefined;
  if (containerName !== undefined) result.containerName = containerName;
  if (image !== undefined) result.image = image;
  return result;
}

function readModel(zip: SafeZip, manifest: ZipManifest, findings: Findings): Omit<ModelSolution, 'solutionId' | 'revisionId'> | undefined {
  const modelName = zip.has(ZIP_PATHS.modelName) ? text(zip.readText(ZIP_PATHS.modelName, findings.problems)) : undefined;
  const needsDeployment = manifest.containerName === undefined || manifest.image === undefined;
  const fromDeployment = needsDeployment && zip.has(ZIP_PATHS.modelDeployment) ? modelFromDeployment(zip, findings) : {};
  const containerName = manifest.containerName ?? modelName ?? fromDeployment.containerName;
  const image = manifest.image ?? fromDeployment.image;
  if (containerName === undefined || image === undefined) {
    const missing = [containerName === undefined ? 'the container name' : '', image === undefined ? 'the image' : ''].filter((part) => part).join(' and ');
    findings.problems.push(
      `a model needs ${missing}: from solution.json ("containerName", "image"), or from ${ZIP_PATHS.modelName} and the first container of ${ZIP_PATHS.modelDeployment}`,
    );
    return undefined;
  }
  const protos = protoFiles(zip);
  const protoPath = protos.get(containerName) ?? (protos.size === 1 ? [...protos.values()][0] : undefined);
  const proto = protoPath !== undefined ? zip.readText(protoPath, findings.problems) : undefined;
  const model: Omit<ModelSolution, 'solutionId' | 'revisionId'> = { kind: 'model', name: manifest.name ?? modelName ?? containerName, containerName, image };
  return proto === undefined ? model : { ...model, proto: normaliseProto(proto) };
}

function kindOf(zip: SafeZip, manifest: ZipManifest, findings: Findings): Solution['kind'] | undefined {
  const hasBlueprint = zip.has(ZIP_PATHS.blueprint) || zip.has(ZIP_PATHS.sourceBlueprint);
  if (manifest.kind === 'pipeline' && !hasBlueprint) findings.problems.push(`${ZIP_PATHS.solution} says "pipeline" but ${ZIP_PATHS.blueprint} is missing`);
  if (manifest.kind !== undefined) return manifest.kind;
  if (hasBlueprint) return 'pipeline';
  if (zip.has(ZIP_PATHS.modelName) || zip.has(ZIP_PATHS.modelDeployment)) return 'model';
  findings.problems.push(
    `this is not a solution.zip: expected ${ZIP_PATHS.blueprint} (a pipeline) or ${ZIP_PATHS.modelName} and ${ZIP_PATHS.modelDeployment} (a model) at its root`,
  );
  return undefined;
}

/** A solution id from a name: lower case, `[a-z0-9._-]`, at most 64 characters. */
export function solutionIdFromName(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-._]+/, '')
    .slice(0, 64)
    .replace(/[-._]+$/, '');
  return slug === '' ? 'imported-solution' : slug;
}

/** sha256 of everything that is stored for the revision, in a canonical form. */
export function contentRevisionId(content: Omit<PipelineSolution, 'solutionId' | 'revisionId'> | Omit<ModelSolution, 'solutionId' | 'revisionId'>): string {
  const canonical =
    content.kind === 'pipeline'
      ? { kind: content.kind, name: content.name, blueprint: content.blueprint, protos: Object.entries(content.protos).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) }
      : { kind: content.kind, name: content.name, containerName: content.containerName, image: content.image, proto: content.proto ?? null };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex').slice(0, REVISION_ID_LENGTH);
}

/**
 * Reads and checks a solution.zip. Pure (no I/O): the archive in, the solution it holds out, with
 * its ids assigned. Throws ValidationError listing every problem.
 */
export function readSolutionZip(buffer: Buffer, limits: ZipLimits = DEFAULT_ZIP_LIMITS): ImportedSolution {
  const zip = openZipSafely(buffer, ROOT_MARKERS, limits);
  const findings: Findings = { problems: [], warnings: [] };
  const manifest = readManifest(zip, findings);
  const kind = kindOf(zip, manifest, findings);
  const content = kind === 'pipeline' ? readPipeline(zip, manifest, findings) : kind === 'model' ? readModel(zip, manifest, findings) : undefined;
  if (content !== undefined && content.name.length > MAX_NAME_LENGTH) findings.problems.push(`the solution name is longer than ${MAX_NAME_LENGTH} characters`);
  if (findings.problems.length > 0 || content === undefined) {
    const problems = findings.problems.length > 0 ? findings.problems : ['the solution could not be read'];
    throw new ValidationError(`solution.zip cannot be imported: ${problems.join('; ')}`, problems);
  }
  const ids = { solutionId: manifest.solutionId ?? solutionIdFromName(content.name), revisionId: contentRevisionId(content) };
  return { solution: { ...content, ...ids }, warnings: findings.warnings };
}
