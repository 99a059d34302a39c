export { KNOWN_ADDONS, isKnownAddon, orderAddons, type Addon, type OrderedAddons } from './addons.js';
export { cidrContains, cidrsOverlap, parseCidr, type Cidr } from './cidr.js';
export {
  CAPI_API_VERSIONS,
  HOST_SELECTOR_KEYS,
  checkClusterApiSpec,
  clusterApiSpecFromPlan,
  renderClusterApi,
  type ClusterApiImage,
  type ClusterApiOptions,
  type ClusterApiSpec,
  type RenderedClusterApi,
} from './cluster-api.js';
export { BootstrapFailedError, type BootstrapFailureReason } from './errors.js';
export { BOOTSTRAP_HOST_ROLES, checkHosts, type BootstrapHost, type BootstrapHostRole } from './hosts.js';
export { INVENTORY_GROUP_STYLES, renderKudInventory, type InventoryGroupStyle, type InventoryOptions } from './inventory.js';
export { renderKudInstaller, renderSshKeySecret, type KudInstaller, type KudInstallerNames, type KudInstallerOptions } from './kud-installer.js';
export {
  ADMIN_CONF_KEY,
  BOOTSTRAP_LABEL_KEYS,
  CAPI_KUBECONFIG_KEY,
  adminConfSecretName,
  bootstrapLabels,
  capiKubeconfigSecretName,
  installerJobName,
} from './labels.js';
export {
  assessCapiCluster,
  assessInstallerJob,
  diagnoseInstallerLog,
  newLogLines,
  redactLogText,
  splitLogLines,
  type CapiClusterState,
  type InstallerLogDiagnosis,
  type InstallerState,
} from './progress.js';
export {
  BOOTSTRAP_ENGINES,
  CLUSTER_NAME_MAX_LENGTH,
  checkBootstrapRequest,
  planBootstrap,
  type BootstrapCheck,
  type BootstrapEngine,
  type BootstrapPlan,
  type BootstrapRequest,
} from './request.js';
export { decideSplit, type ClusterSplit, type RequestedSplit, type SplitResult } from './split.js';
