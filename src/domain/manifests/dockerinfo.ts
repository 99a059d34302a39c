/**
 * dockerinfo.json: where the orchestrator finds each node. Names are the blueprint's own
 * container names (the orchestrator matches them against the blueprint); addresses are the
 * Service names, resolvable inside the namespace.
 */
import { PROTOBUF_API_PORT, type RenderedNode } from './workload.js';

export interface DockerInfoEntry {
  container_name: string;
  ip_address: string;
  port: number;
}

export interface DockerInfo {
  docker_info_list: DockerInfoEntry[];
}

export function renderDockerInfo(nodes: readonly RenderedNode[]): DockerInfo {
  return {
    docker_info_list: nodes.map((node) => ({
      container_name: node.containerName,
      ip_address: node.kubeName,
      port: PROTOBUF_API_PORT,
    })),
  };
}
