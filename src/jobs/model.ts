/**
 * The job record shared by every kind of long work (deploy, undeploy, provisioning, bootstrap).
 */
export const JOB_KINDS = ['deploy', 'undeploy', 'provision', 'deprovision', 'power', 'bootstrap', 'scale-out', 'package-rollout', 'site-rollout'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'partially_failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const FINAL_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'partially_failed', 'cancelled'];

export const STEP_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export interface JobError {
  code: string;
  message: string;
  details?: unknown;
}

export interface JobStep {
  name: string;
  status: StepStatus;
  detail: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

export interface JobRecord {
  id: string;
  kind: JobKind;
  subjectType: string;
  subjectId: string;
  owner: string;
  status: JobStatus;
  input: Record<string, unknown>;
  result: unknown;
  error: JobError | null;
  parentId: string | null;
  cancelRequested: boolean;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface JobEvent {
  id: string;
  jobId: string;
  at: string;
  type: string;
  message: string;
  data: unknown;
}

export function isFinal(status: JobStatus): boolean {
  return FINAL_JOB_STATUSES.includes(status);
}
