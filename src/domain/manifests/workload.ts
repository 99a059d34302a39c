/**
 * What the manifest renderers need to know about one thing they deploy: a blueprint node, the
 * single model of a model solution, or the orchestrator.
 */

/** Graphene's node contract: gRPC on 8061, an optional web UI on 8062. */
export const PROTOBUF_API_PORT = 8061;
export const WEBUI_PORT = 8062;
export const PORT_NAMES = { protobufApi: 'protobuf-api', webui: 'webui' } as const;

/** Environment variable that tells a node where its shared folder is mounted. */
export const SHARED_FOLDER_PATH_ENV = 'SHARED_FOLDER_PATH';

export type WorkloadRole = 'node' | 'orchestrator';

export interface RenderedNode {
  /** The blueprint's own name (dockerinfo and protos use it). */
  containerName: string;
  /** Name of its Deployment, Service and container. */
  kubeName: string;
  nodeType: string;
  image: string;
  role: WorkloadRole;
}

export interface SharedFolderMount {
  /** Mount path inside the container. */
  path: string;
  /** PersistentVolumeClaim (and pod volume) name. */
  claimName: string;
}

export interface Workload extends RenderedNode {
  mounts: SharedFolderMount[];
}
