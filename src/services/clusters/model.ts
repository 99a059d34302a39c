import type { BootstrapEngine, BootstrapHost, BootstrapPlan, BootstrapRequest } from '../../domain/bootstrap/index.js';
import type { JobError } from '../../jobs/model.js';

export const CLUSTER_ORIGINS = ['registered', 'bootstrapped'] as const;
export type ClusterOrigin = (typeof CLUSTER_ORIGINS)[number];

export const CLUSTER_STATUSES = ['bootstrapping', 'ready', 'failed'] as const;
export type ClusterStatus = (typeof CLUSTER_STATUSES)[number];

/** A cluster as the API shows it: never its kube config. */
export interface Cluster {
  id: string;
  name: string;
  owner: string;
  server: string | null;
  origin: ClusterOrigin;
  site: string | null;
  engine: BootstrapEngine | null;
  request: BootstrapRequest | null;
  plan: BootstrapPlan | null;
  /** Bootstrapped clusters: the hosts it runs on (name, address, role). */
  nodes: BootstrapHost[];
  status: ClusterStatus;
  error: JobError | null;
  jobId: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The label a host carries to join a bootstrapped cluster of its site when it is provisioned. */
export const CLUSTER_LABEL = 'slipway.io/cluster';
