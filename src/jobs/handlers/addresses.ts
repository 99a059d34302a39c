import type { OrchestratorAddressMode } from '../../config.js';
import type { ClusterClient } from '../../adapters/kubernetes/cluster-client.js';
import { AppError } from '../../errors.js';

class OrchestratorUnreachableError extends AppError {
  constructor(message: string) {
    super('orchestrator_unreachable', 502, message);
  }
}

/**
 * The address users and the orchestrator client reach node ports on: the first node's
 * ExternalIP, else its InternalIP, else the host of the kube config's server (when nodes cannot
 * be listed, as users of the reference deployer asked).
 */
export async function pickNodeAddress(cluster: ClusterClient, server: string): Promise<string> {
  try {
    const nodes = await cluster.listNodeAddresses();
    const external = nodes.find((node) => node.externalIP)?.externalIP;
    const internal = nodes.find((node) => node.internalIP)?.internalIP;
    if (external ?? internal) return (external ?? internal) as string;
  } catch {
    // Listing nodes is often forbidden to namespace-scoped users: fall back to the server host.
  }
  return new URL(server).hostname.replace(/^\[|\]$/g, '');
}

export function orchestratorAddress(
  mode: OrchestratorAddressMode,
  namespace: string,
  nodeAddress: string,
  nodePorts: Map<string, Record<string, number>>,
): string {
  if (mode === 'service-dns') return `orchestrator.${namespace}.svc:8061`;
  const port = nodePorts.get('orchestrator')?.['protobuf-api'];
  if (!port) throw new OrchestratorUnreachableError('The orchestrator Service has no node port for protobuf-api; set ORCHESTRATOR_ADDRESS=service-dns when Slipway runs inside the cluster');
  return `${nodeAddress.includes(':') ? `[${nodeAddress}]` : nodeAddress}:${port}`;
}
