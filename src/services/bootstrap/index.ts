export { runClusterApiBootstrap, type ClusterApiBootstrapResult, type ClusterApiBootstrapSettings } from './capi-engine.js';
export { runKudBootstrap, type KudBootstrapResult, type KudBootstrapSettings } from './kud-engine.js';
export { MAX_POLL_MS, type BootstrapCluster, type BootstrapReporter, type PollSettings } from './shared.js';
