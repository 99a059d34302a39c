/**
 * Graphene's blueprint.json: the pipeline's nodes, their images and how they are wired.
 * `parseBlueprint` checks everything a deploy and the orchestrator rely on and reports every
 * problem at once; `orchestratorBlueprint` prepares the text the orchestrator is given.
 */
import { BlueprintInvalidError } from '../errors.js';

/** The node types Graphene's design studio writes (see graphene.md §4). */
export const KNOWN_NODE_TYPES = [
  'MLModel',
  'DataBroker',
  'SharedFolder',
  'Splitter',
  'Collator',
  'TrainingClient',
  'DataMapper',
  'Probe',
] as const;

export const SHARED_FOLDER_NODE_TYPE = 'SharedFolder';

/**
 * Container name of the orchestrator's own dockerinfo entry. A node with this name would
 * appear twice in dockerinfo, which the orchestrator refuses.
 */
export const ORCHESTRATOR_CONTAINER_NAME = 'orchestrator';

export interface BlueprintConnection {
  containerName: string;
  operationName: string;
}

export interface BlueprintOperation {
  operationName: string;
  inputMessageName?: string;
  outputMessageName?: string;
  connectedTo: BlueprintConnection[];
}

export interface BlueprintNode {
  /** Unique in the blueprint; for a SharedFolder node, the mount path. */
  containerName: string;
  nodeType: string;
  /** Image reference with any `http://` / `https://` prefix removed; '' for a SharedFolder. */
  image: string;
  protoUri?: string;
  operations: BlueprintOperation[];
}

export interface SharedFolder {
  /** Mount path inside the consumers (the SharedFolder node's container_name). */
  path: string;
  /** Container names of the nodes that mount it, in blueprint order, without repeats. */
  consumers: string[];
}

export interface Blueprint {
  name?: string;
  version?: string;
  /** Every node, in blueprint order. */
  nodes: BlueprintNode[];
  /** Nodes that become a Deployment and a Service: all but SharedFolder nodes. */
  deployableNodes: BlueprintNode[];
  sharedFolders: SharedFolder[];
  /** `probeIndicator` (or the misspelt `probeIndocator`) says "true". */
  probe: boolean;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/** Old Acumos blueprints write images as URLs, which no container runtime accepts. */
export function normaliseImage(image: string): string {
  return image.trim().replace(/^https?:\/\//i, '');
}

/** Collects problems under a location prefix, so every message says where it is. */
class ProblemList {
  readonly problems: string[] = [];
  add(where: string, what: string): void {
    this.problems.push(`${where}: ${what}`);
  }
}

function nodeLabel(node: unknown, index: number): string {
  if (isObject(node) && nonEmptyString(node.container_name)) return `node "${node.container_name}"`;
  return `nodes[${index}]`;
}

function parseConnections(raw: unknown, where: string, problems: ProblemList): BlueprintConnection[] {
  if (!Array.isArray(raw)) {
    problems.add(where, 'connected_to must be an array');
    return [];
  }
  const connections: BlueprintConnection[] = [];
  raw.forEach((entry: unknown, index) => {
    const at = `${where}.connected_to[${index}]`;
    if (!isObject(entry) || !nonEmptyString(entry.container_name)) {
      problems.add(at, 'container_name must be a non-empty string');
      return;
    }
    const signature = entry.operation_signature;
    if (!isObject(signature) || !nonEmptyString(signature.operation_name)) {
      problems.add(at, 'operation_signature.operation_name must be a non-empty string');
      return;
    }
    connections.push({ containerName: entry.container_name, operationName: signature.operation_name });
  });
  return connections;
}

function parseOperation(raw: unknown, where: string, problems: ProblemList): BlueprintOperation | undefined {
  if (!isObject(raw)) {
    problems.add(where, 'must be an object');
    return undefined;
  }
  const signature = raw.operation_signature;
  if (!isObject(signature) || !nonEmptyString(signature.operation_name)) {
    problems.add(where, 'operation_signature.operation_name must be a non-empty string');
    return undefined;
  }
  const operation: BlueprintOperation = {
    operationName: signature.operation_name,
    connectedTo: parseConnections(raw.connected_to, where, problems),
  };
  if (typeof signature.input_message_name === 'string') operation.inputMessageName = signature.input_message_name;
  if (typeof signature.output_message_name === 'string') operation.outputMessageName = signature.output_message_name;
  return operation;
}

/**
 * Node types: any non-empty string is accepted. The list in graphene.md is what today's design
 * studio writes, not a closed set (older and newer Graphene versions add types), and every
 * non-SharedFolder node is deployed the same way: an image serving gRPC on 8061. So an unknown
 * type is not a problem; a missing or non-string one is, because the orchestrator reads it.
 */
function parseNode(raw: unknown, index: number, problems: ProblemList): BlueprintNode | undefined {
  const where = nodeLabel(raw, index);
  if (!isObject(raw)) {
    problems.add(where, 'must be an object');
    return undefined;
  }
  const containerName = raw.container_name;
  if (!nonEmptyString(containerName)) problems.add(where, 'container_name must be a non-empty string');
  const nodeType = raw.node_type;
  if (!nonEmptyString(nodeType)) problems.add(where, 'node_type must be a non-empty string');
  const isSharedFolder = nodeType === SHARED_FOLDER_NODE_TYPE;
  if (isSharedFolder && nonEmptyString(containerName) && !containerName.startsWith('/')) {
    problems.add(where, 'a SharedFolder container_name is its mount path and must be absolute (start with "/")');
  }
  const image = typeof raw.image === 'string' ? normaliseImage(raw.image) : '';
  // A SharedFolder's image is a placeholder that is never deployed.
  if (!isSharedFolder && image === '') problems.add(where, 'image must be a non-empty string');
  if (raw.proto_uri !== undefined && typeof raw.proto_uri !== 'string') {
    problems.add(where, 'proto_uri must be a string');
  }

  const operations: BlueprintOperation[] = [];
  if (!Array.isArray(raw.operation_signature_list)) {
    problems.add(where, 'operation_signature_list must be an array');
  } else {
    raw.operation_signature_list.forEach((entry: unknown, opIndex) => {
      const operation = parseOperation(entry, `${where} operation_signature_list[${opIndex}]`, problems);
      if (operation) operations.push(operation);
    });
  }
  if (!nonEmptyString(containerName)) return undefined;
  // A node with a bad node_type is still returned (its problem is recorded) so that
  // connections to it are not also reported as connections to an unknown node.
  const node: BlueprintNode = { containerName, nodeType: nonEmptyString(nodeType) ? nodeType : '', image, operations };
  if (typeof raw.proto_uri === 'string') node.protoUri = raw.proto_uri;
  return node;
}

function checkNames(nodes: readonly BlueprintNode[], problems: ProblemList): void {
  const seen = new Set<string>();
  for (const node of nodes) {
    if (seen.has(node.containerName)) problems.add(`node "${node.containerName}"`, 'container_name is used by more than one node');
    seen.add(node.containerName);
    if (node.containerName === ORCHESTRATOR_CONTAINER_NAME) {
      problems.add(`node "${node.containerName}"`, 'container_name "orchestrator" is reserved for the orchestrator');
    }
  }
}

function checkConnections(nodes: readonly BlueprintNode[], problems: ProblemList): void {
  const byName = new Map(nodes.map((node) => [node.containerName, node]));
  for (const node of nodes) {
    for (const operation of node.operations) {
      for (const connection of operation.connectedTo) {
        const where = `node "${node.containerName}" operation "${operation.operationName}"`;
        const target = byName.get(connection.containerName);
        if (!target) {
          problems.add(where, `connected_to names unknown node "${connection.containerName}"`);
        } else if (node.nodeType === SHARED_FOLDER_NODE_TYPE && target.nodeType === SHARED_FOLDER_NODE_TYPE) {
          problems.add(where, `a SharedFolder cannot be mounted by another SharedFolder ("${connection.containerName}")`);
        }
      }
    }
  }
}

/**
 * Consumers of a SharedFolder: every node its operations are connected to. Graphene writes one
 * `provideFolder` operation; all operations are read so a renamed one still works.
 */
function sharedFolderOf(node: BlueprintNode): SharedFolder {
  const consumers = node.operations.flatMap((operation) => operation.connectedTo.map((c) => c.containerName));
  return { path: node.containerName, consumers: [...new Set(consumers)] };
}

function probeFlag(raw: JsonObject, problems: ProblemList): boolean {
  const indicator = raw.probeIndicator ?? raw.probeIndocator;
  if (indicator === undefined) return false;
  if (!Array.isArray(indicator)) {
    problems.add('blueprint', 'probeIndicator must be an array');
    return false;
  }
  return indicator.some((entry: unknown) => isObject(entry) && String(entry.value).toLowerCase() === 'true');
}

/**
 * Validate a parsed blueprint.json. Throws one BlueprintInvalidError listing every problem.
 * Unknown top-level fields (input_ports, training_clients, …) are allowed and ignored here;
 * they reach the orchestrator untouched through `orchestratorBlueprint`.
 */
export function parseBlueprint(raw: unknown): Blueprint {
  if (!isObject(raw)) throw new BlueprintInvalidError(['blueprint: must be a JSON object']);
  const problems = new ProblemList();
  const nodes: BlueprintNode[] = [];
  if (!Array.isArray(raw.nodes)) {
    problems.add('blueprint', 'nodes must be an array');
  } else if (raw.nodes.length === 0) {
    problems.add('blueprint', 'nodes is empty');
  } else {
    raw.nodes.forEach((entry: unknown, index) => {
      const node = parseNode(entry, index, problems);
      if (node) nodes.push(node);
    });
  }
  checkNames(nodes, problems);
  checkConnections(nodes, problems);
  const probe = probeFlag(raw, problems);
  const deployableNodes = nodes.filter((node) => node.nodeType !== SHARED_FOLDER_NODE_TYPE);
  if (Array.isArray(raw.nodes) && raw.nodes.length > 0 && nodes.length === raw.nodes.length && deployableNodes.length === 0) {
    problems.add('blueprint', 'no deployable node (every node is a SharedFolder)');
  }
  if (problems.problems.length > 0) throw new BlueprintInvalidError(problems.problems);

  const blueprint: Blueprint = {
    nodes,
    deployableNodes,
    sharedFolders: nodes.filter((node) => node.nodeType === SHARED_FOLDER_NODE_TYPE).map(sharedFolderOf),
    probe,
  };
  if (typeof raw.name === 'string') blueprint.name = raw.name;
  if (typeof raw.version === 'string') blueprint.version = raw.version;
  return blueprint;
}

/** Paths of the shared folders a node mounts, in blueprint order. */
export function sharedFoldersMountedBy(blueprint: Blueprint, containerName: string): string[] {
  return blueprint.sharedFolders.filter((folder) => folder.consumers.includes(containerName)).map((folder) => folder.path);
}

/**
 * The blueprint the orchestrator is given: top-level nodes whose node_type is exactly
 * `SharedFolder` removed, everything else (key order, other nodes' mountVolume operations)
 * kept as it was, like the reference deployer does. Anything that is not a blueprint-shaped
 * object is returned unchanged.
 */
export function orchestratorBlueprint(raw: unknown): unknown {
  if (!isObject(raw) || !Array.isArray(raw.nodes)) return raw;
  const nodes = raw.nodes.filter((node: unknown) => !(isObject(node) && node.node_type === SHARED_FOLDER_NODE_TYPE));
  // Spreading keeps the key order; `nodes` is replaced in its original position.
  return { ...raw, nodes };
}
