/**
 * solution.zip, Graphene's "deploy to local" package (graphene.md §8), built from the same
 * rendered manifests Slipway applies. The manifests carry no namespace: deploy.sh applies them
 * with `--namespace <the user's choice>`, so one zip deploys into any namespace.
 */
import AdmZip from 'adm-zip';
import type { Config } from '../../config.js';
import type { RenderedSolution } from '../../domain/manifests/render-solution.js';
import { ANNOTATION_KEYS } from '../../domain/manifests/labels.js';
import { objectsToYaml } from '../../domain/manifests/yaml.js';
import { defaultNamespace } from '../../domain/names.js';
import type { Solution } from '../../domain/solution.js';
import { BlueprintInvalidError } from '../../errors.js';
import { readOrchestratorProto } from '../../adapters/orchestrator/proto.js';
import { renderForConfig } from '../manifests.js';
import { readAsset } from './assets.js';
import { protoPath, SOLUTION_ZIP_FORMAT, unsafePathReason, ZIP_PATHS, type ZipSolutionManifest } from './layout.js';
import { deploymentReadme, type ReadmeClaim } from './readme.js';

export interface SolutionZipFile {
  path: string;
  content: string;
  executable?: boolean;
}

/**
 * Rendering needs a namespace; it is removed from every object afterwards. Any valid name would
 * do: this one says where it came from if it ever leaked.
 */
const RENDER_NAMESPACE = 'slipway-export';

/** Entry times are fixed so the same solution always gives the same bytes. */
const ENTRY_TIME = new Date(2020, 0, 1, 0, 0, 0);
const REGULAR_FILE_MODE = 0o100644;
const EXECUTABLE_FILE_MODE = 0o100755;

type NamespacedObject = { metadata?: { namespace?: string } };

function withoutNamespace<T extends NamespacedObject>(object: T): T {
  const copy = structuredClone(object);
  if (copy.metadata) delete copy.metadata.namespace;
  return copy;
}

function yamlOf(objects: readonly NamespacedObject[]): string {
  return objectsToYaml(objects.map(withoutNamespace));
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function nameOf(object: { metadata?: { name?: string } }): string {
  return object.metadata?.name ?? '';
}

/** Service and Deployment files, one pair per workload, in workload order (orchestrator last). */
function workloadFiles(rendered: RenderedSolution, kind: Solution['kind']): SolutionZipFile[] {
  if (kind === 'model') {
    return [
      { path: ZIP_PATHS.modelService, content: yamlOf(rendered.services) },
      { path: ZIP_PATHS.modelDeployment, content: yamlOf(rendered.deployments) },
    ];
  }
  return rendered.nodes.flatMap((node) => {
    const service = rendered.services.find((candidate) => nameOf(candidate) === node.kubeName);
    const deployment = rendered.deployments.find((candidate) => nameOf(candidate) === node.kubeName);
    if (!service || !deployment) throw new Error(`rendered solution has no Service or Deployment named ${node.kubeName}`);
    return [
      { path: `${ZIP_PATHS.deploymentsDir}${node.kubeName}_service.yaml`, content: yamlOf([service]) },
      { path: `${ZIP_PATHS.deploymentsDir}${node.kubeName}_deployment.yaml`, content: yamlOf([deployment]) },
    ];
  });
}

/** Proto files; a container name that cannot be a file name would make an unusable zip. */
function protoFiles(rendered: RenderedSolution): SolutionZipFile[] {
  const files = Object.entries(rendered.protos).map(([fileName, content]) => ({ path: `${ZIP_PATHS.protoDir}${fileName}`, content }));
  const problems = files
    .filter((file) => unsafePathReason(file.path) !== undefined || file.path.slice(ZIP_PATHS.protoDir.length).includes('/'))
    .map((file) => `node "${file.path.slice(ZIP_PATHS.protoDir.length, -'.proto'.length)}": container_name cannot be used as a file name in solution.zip`);
  if (problems.length > 0) throw new BlueprintInvalidError(problems);
  return files;
}

function solutionManifest(solution: Solution): ZipSolutionManifest {
  const base = { format: SOLUTION_ZIP_FORMAT, solutionId: solution.solutionId, revisionId: solution.revisionId, name: solution.name };
  if (solution.kind === 'pipeline') return { ...base, kind: 'pipeline' };
  return { ...base, kind: 'model', containerName: solution.containerName, image: solution.image };
}

function pipelineFiles(solution: Solution, rendered: RenderedSolution): SolutionZipFile[] {
  if (solution.kind !== 'pipeline') return [];
  const orchestratorBlueprint = json(rendered.orchestratorBlueprint);
  const sourceBlueprint = json(solution.blueprint);
  return [
    { path: ZIP_PATHS.blueprint, content: orchestratorBlueprint },
    ...(sourceBlueprint !== orchestratorBlueprint ? [{ path: ZIP_PATHS.sourceBlueprint, content: sourceBlueprint }] : []),
    { path: ZIP_PATHS.dockerinfo, content: json(rendered.dockerinfo) },
  ];
}

function claimsOf(rendered: RenderedSolution): ReadmeClaim[] {
  return rendered.persistentVolumeClaims.map((claim) => ({
    name: nameOf(claim),
    path: claim.metadata?.annotations?.[ANNOTATION_KEYS.sharedFolderPath] ?? '',
    size: claim.spec?.resources?.requests?.storage ?? '',
    ...(claim.spec?.storageClassName !== undefined ? { storageClass: claim.spec.storageClassName } : {}),
  }));
}

/**
 * Every file of the zip, in zip order. Throws BlueprintInvalidError when the solution cannot be
 * rendered (the same errors a deploy would give).
 */
export function solutionZipFiles(solution: Solution, config: Config): SolutionZipFile[] {
  const rendered = renderForConfig(solution, config, RENDER_NAMESPACE);
  const files: SolutionZipFile[] = [
    ...pipelineFiles(solution, rendered),
    ...(solution.kind === 'model' ? [{ path: ZIP_PATHS.modelName, content: `${solution.containerName}\n` }] : []),
    { path: ZIP_PATHS.solution, content: json(solutionManifest(solution)) },
    ...workloadFiles(rendered, solution.kind),
    ...(rendered.persistentVolumeClaims.length > 0 ? [{ path: ZIP_PATHS.sharedFolderClaims, content: yamlOf(rendered.persistentVolumeClaims) }] : []),
    ...protoFiles(rendered),
    ...(solution.kind === 'pipeline'
      ? [
          { path: ZIP_PATHS.orchestratorProto, content: readOrchestratorProto() },
          { path: ZIP_PATHS.orchestratorClient, content: readAsset('orchestrator_client.py'), executable: true },
        ]
      : []),
    { path: ZIP_PATHS.deployScript, content: readAsset('deploy.sh'), executable: true },
  ];
  const readmeFiles = [...files.map((file) => file.path), ZIP_PATHS.readme];
  const readme = deploymentReadme({
    solution,
    nodes: rendered.nodes,
    exampleNamespace: defaultNamespace(solution.name, solution.revisionId),
    claims: claimsOf(rendered),
    ...(config.imagePullSecret !== undefined ? { imagePullSecret: config.imagePullSecret } : {}),
    serviceType: config.serviceType,
    files: readmeFiles,
  });
  return [...files, { path: ZIP_PATHS.readme, content: readme }];
}

/** solution.zip as bytes. Deterministic: the same solution and config give the same bytes. */
export function buildSolutionZip(solution: Solution, config: Config): Buffer {
  const zip = new AdmZip();
  for (const file of solutionZipFiles(solution, config)) {
    zip.addFile(file.path, Buffer.from(file.content, 'utf8'));
    const entry = zip.getEntry(file.path);
    if (entry === null) throw new Error(`adm-zip lost ${file.path}`);
    entry.header.time = ENTRY_TIME;
    // Unix mode in the high 16 bits of the external attributes, so unzip restores `+x`.
    entry.attr = ((file.executable ? EXECUTABLE_FILE_MODE : REGULAR_FILE_MODE) << 16) >>> 0;
  }
  return zip.toBuffer();
}
