export {
  createClusterClient,
  type ClusterClient,
  type ClusterClientOptions,
  type NamespaceDeletion,
  type NodeAddresses,
  type ServiceNodePorts,
} from './cluster-client.js';
export { FIELD_MANAGER, describeObject, type ApplyOptions, type ApplyResult, type AppliedObject } from './apply.js';
export { DeployNotReadyError, KubernetesApplyError, KubernetesRequestError } from './errors.js';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';
export { buildKubeConfig } from './transport.js';
export { waitForReady, type WaitForReadyOptions } from './wait-for-ready.js';
