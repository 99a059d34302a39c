/**
 * Everything Slipway applies for one solution revision, and what the orchestrator is given,
 * computed from the solution and the deploy options alone (graphene.md §5, §6).
 */
import type { V1Deployment, V1Namespace, V1PersistentVolumeClaim, V1Service } from '@kubernetes/client-node';
import { BlueprintInvalidError, ValidationError } from '../../errors.js';
import {
  ORCHESTRATOR_CONTAINER_NAME,
  normaliseImage,
  orchestratorBlueprint,
  parseBlueprint,
  sharedFoldersMountedBy,
} from '../blueprint.js';
import { assignKubeNames, isDnsLabel, toLabelValue } from '../names.js';
import type { ModelSolution, PipelineSolution, Solution } from '../solution.js';
import { renderDeployment } from './deployment.js';
import { renderDockerInfo, type DockerInfo } from './dockerinfo.js';
import type { LabelContext } from './labels.js';
import { renderNamespace } from './namespace.js';
import { renderSharedFolderClaim, sharedFolderClaimNames } from './pvc.js';
import { renderService, type ServiceType } from './service.js';
import type { RenderedNode, SharedFolderMount, Workload } from './workload.js';

export type { RenderedNode } from './workload.js';
export type { DockerInfo } from './dockerinfo.js';

/** Kubernetes name (Deployment, Service, container) of the orchestrator. */
export const ORCHESTRATOR_KUBE_NAME = 'orchestrator';

export interface RenderOptions {
  /** Already validated as an RFC 1123 label (checked again here). */
  namespace: string;
  /** When present, label `slipway.io/deployment-id=<id>` on every object. */
  deploymentId?: string;
  orchestratorImage: string;
  /** When set, `imagePullSecrets: [{name}]` on every pod. */
  imagePullSecret?: string;
  /** Requested size of each shared-folder claim, e.g. `1Gi`. */
  sharedFolderSize: string;
  /** storageClassName of shared-folder claims; absent = the cluster's default class. */
  sharedFolderStorageClass?: string;
  serviceType: ServiceType;
}

export type RenderedObject = V1Namespace | V1PersistentVolumeClaim | V1Service | V1Deployment;

export interface RenderedSolution {
  namespace: string;
  namespaceObject: V1Namespace;
  /** One per shared folder that some node mounts; the first is named `pipeline`. */
  persistentVolumeClaims: V1PersistentVolumeClaim[];
  services: V1Service[];
  deployments: V1Deployment[];
  /** Every object in apply order: namespace, claims, services, deployments. */
  objects: RenderedObject[];
  /** Deployed nodes in blueprint order, then the orchestrator (pipelines only). */
  nodes: RenderedNode[];
  dockerinfo: DockerInfo;
  /** Pipelines only: the blueprint with SharedFolder nodes removed. */
  orchestratorBlueprint?: unknown;
  /** Proto texts keyed `<container_name>.proto`, as the orchestrator's `protofiles` wants them. */
  protos: Record<string, string>;
}

/** What differs between a pipeline and a single model; the rest is rendered the same way. */
interface RenderPlan {
  workloads: Workload[];
  folders: SharedFolderMount[];
  protos: Record<string, string>;
  orchestratorBlueprint?: unknown;
}

function checkOptions(options: RenderOptions): void {
  const problems: string[] = [];
  if (!isDnsLabel(options.namespace)) {
    problems.push(`namespace "${options.namespace}" must be a lower-case RFC 1123 label of at most 63 characters`);
  }
  if (options.sharedFolderSize.trim() === '') problems.push('sharedFolderSize must not be empty');
  if (problems.length > 0) throw new ValidationError(problems.join('; '), problems);
}

function protoFileName(containerName: string): string {
  return `${containerName}.proto`;
}

function planPipeline(solution: PipelineSolution, options: RenderOptions): RenderPlan {
  const blueprint = parseBlueprint(solution.blueprint);
  const kubeNames = assignKubeNames(
    blueprint.deployableNodes.map((node) => node.containerName),
    [ORCHESTRATOR_KUBE_NAME],
  );
  const mountedPaths = new Set(blueprint.deployableNodes.flatMap((node) => sharedFoldersMountedBy(blueprint, node.containerName)));
  // A folder nobody mounts needs no storage (an unbound claim would only look like a failure).
  const usedPaths = blueprint.sharedFolders.map((folder) => folder.path).filter((path) => mountedPaths.has(path));
  const claimNames = sharedFolderClaimNames(usedPaths);
  const folders = usedPaths.map((path) => ({ path, claimName: claimNames.get(path) ?? '' }));

  const workloads: Workload[] = blueprint.deployableNodes.map((node) => ({
    containerName: node.containerName,
    kubeName: kubeNames.get(node.containerName) ?? '',
    nodeType: node.nodeType,
    image: node.image,
    role: 'node',
    mounts: folders.filter((folder) => sharedFoldersMountedBy(blueprint, node.containerName).includes(folder.path)),
  }));
  workloads.push({
    containerName: ORCHESTRATOR_CONTAINER_NAME,
    kubeName: ORCHESTRATOR_KUBE_NAME,
    nodeType: 'Orchestrator',
    image: normaliseImage(options.orchestratorImage),
    role: 'orchestrator',
    mounts: [],
  });

  const protos: Record<string, string> = {};
  for (const node of blueprint.deployableNodes) {
    const proto = Object.hasOwn(solution.protos, node.containerName) ? solution.protos[node.containerName] : undefined;
    if (proto !== undefined) protos[protoFileName(node.containerName)] = proto;
  }
  return { workloads, folders, protos, orchestratorBlueprint: orchestratorBlueprint(solution.blueprint) };
}

function planModel(solution: ModelSolution): RenderPlan {
  const image = normaliseImage(solution.image);
  const problems: string[] = [];
  if (solution.containerName.trim() === '') problems.push('model: container name (DI artifact name) is empty');
  if (image === '') problems.push('model: image (DI artifact uri) is empty');
  if (problems.length > 0) throw new BlueprintInvalidError(problems);

  const kubeName = assignKubeNames([solution.containerName]).get(solution.containerName) ?? '';
  const workload: Workload = {
    containerName: solution.containerName,
    kubeName,
    nodeType: 'MLModel',
    image,
    role: 'node',
    mounts: [],
  };
  const protos: Record<string, string> = {};
  if (solution.proto !== undefined) protos[protoFileName(solution.containerName)] = solution.proto;
  return { workloads: [workload], folders: [], protos };
}

function labelContext(solution: Solution, options: RenderOptions): LabelContext {
  const context: LabelContext = {
    partOf: toLabelValue(solution.name),
    solutionId: toLabelValue(solution.solutionId),
    revisionId: toLabelValue(solution.revisionId),
  };
  if (options.deploymentId !== undefined) context.deploymentId = toLabelValue(options.deploymentId);
  return context;
}

function toRenderedNode({ containerName, kubeName, nodeType, image, role }: Workload): RenderedNode {
  return { containerName, kubeName, nodeType, image, role };
}

/**
 * Render a solution. Throws BlueprintInvalidError when the blueprint (or the model's image)
 * cannot be deployed, ValidationError when the options are unusable. Deterministic: the same
 * input gives the same output, object for object and key for key.
 */
export function renderSolution(solution: Solution, options: RenderOptions): RenderedSolution {
  checkOptions(options);
  const plan = solution.kind === 'pipeline' ? planPipeline(solution, options) : planModel(solution);
  const context = labelContext(solution, options);
  const { namespace } = options;

  const namespaceObject = renderNamespace(namespace, context);
  const claimOptions = {
    namespace,
    size: options.sharedFolderSize,
    ...(options.sharedFolderStorageClass !== undefined ? { storageClass: options.sharedFolderStorageClass } : {}),
  };
  const persistentVolumeClaims = plan.folders.map((folder) => renderSharedFolderClaim(folder, context, claimOptions));
  const services = plan.workloads.map((workload) => renderService(workload, namespace, context, options.serviceType));
  const deploymentOptions = {
    namespace,
    ...(options.imagePullSecret !== undefined ? { imagePullSecret: options.imagePullSecret } : {}),
  };
  const deployments = plan.workloads.map((workload) => renderDeployment(workload, context, deploymentOptions));
  const nodes = plan.workloads.map(toRenderedNode);

  const rendered: RenderedSolution = {
    namespace,
    namespaceObject,
    persistentVolumeClaims,
    services,
    deployments,
    objects: [namespaceObject, ...persistentVolumeClaims, ...services, ...deployments],
    nodes,
    dockerinfo: renderDockerInfo(nodes),
    protos: plan.protos,
  };
  if (plan.orchestratorBlueprint !== undefined) rendered.orchestratorBlueprint = plan.orchestratorBlueprint;
  return rendered;
}
