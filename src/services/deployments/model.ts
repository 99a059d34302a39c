import type { JobError, JobStep } from '../../jobs/model.js';
import type { PreflightResult } from './preflight.js';
import type { LiveHealth, LiveSync } from '../../domain/health/live.js';

export const DEPLOYMENT_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'deleting', 'deleted'] as const;
export const BUSY_STATUSES: readonly DeploymentStatus[] = ['queued', 'running', 'deleting'];
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/** One deployed node as the user sees it: its Service, ports and web UI link. */
export interface DeployedService {
  name: string;
  kubeName: string;
  role: 'node' | 'orchestrator';
  image: string;
  nodePorts: { protobufApi?: number; webui?: number };
  webUiUrl?: string;
}

export interface Deployment {
  id: string;
  owner: string;
  solutionId: string;
  revisionId: string;
  solutionName: string | null;
  solutionKind: string | null;
  namespace: string;
  clusterServer: string | null;
  status: DeploymentStatus;
  services: DeployedService[];
  error: JobError | null;
  jobId: string | null;
  /** Objects this deployment applied, as `Kind/name` (kept for diagnosis after a failure). */
  applied: string[];
  callbackUrl: string | null;
  cleanupOnFailure: boolean;
  /** The deployment this one rolled back from, when it is a rollback. */
  rollbackOf: string | null;
  /** What the deploy's preflight found: every check, and the plan (null until it ran). */
  preflight: PreflightResult | null;
  /** Live deployments: health as last watched (null until checked, and while a deploy runs). */
  health: LiveHealth | null;
  /** Live deployments: whether the cluster holds what Slipway applied. */
  sync: LiveSync | null;
  createdAt: string;
  updatedAt: string;
}

/** What the API returns: the deployment with its current job's steps. Never the kube config. */
export interface DeploymentView extends Omit<Deployment, 'owner'> {
  owner: string;
  steps: JobStep[];
}
