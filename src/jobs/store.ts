import { randomUUID } from 'node:crypto';
import type { Queryable } from '../adapters/db/pool.js';
import type { JobError, JobEvent, JobKind, JobRecord, JobStatus, JobStep, StepStatus } from './model.js';

/** SQL for jobs, their steps and their events. Every function takes the connection to use. */
export const JOB_EVENTS_CHANNEL = 'slipway_job_events';

interface JobRow {
  id: string;
  kind: JobKind;
  subject_type: string;
  subject_id: string;
  owner: string;
  status: JobStatus;
  input: Record<string, unknown>;
  result: unknown;
  error: JobError | null;
  parent_id: string | null;
  cancel_requested: boolean;
  attempts: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

function toJob(row: JobRow): JobRecord {
  return {
    id: row.id,
    kind: row.kind,
    subjectType: row.subject_type,
    subjectId: row.subject_id,
    owner: row.owner,
    status: row.status,
    input: row.input,
    result: row.result,
    error: row.error,
    parentId: row.parent_id,
    cancelRequested: row.cancel_requested,
    attempts: row.attempts,
    createdAt: row.created_at.toISOString(),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

export interface NewJob {
  kind: JobKind;
  subjectType: string;
  subjectId: string;
  owner: string;
  input?: Record<string, unknown>;
  parentId?: string;
  /** Step names known up front, shown as pending until they run. */
  steps?: readonly string[];
}

export async function insertJob(db: Queryable, job: NewJob): Promise<JobRecord> {
  const id = randomUUID();
  const { rows } = await db.query<JobRow>(
    `INSERT INTO jobs (id, kind, subject_type, subject_id, owner, input, parent_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [id, job.kind, job.subjectType, job.subjectId, job.owner, job.input ?? {}, job.parentId ?? null],
  );
  const steps = job.steps ?? [];
  if (steps.length > 0) {
    await db.query(
      `INSERT INTO job_steps (job_id, position, name, status)
       SELECT $1, ordinality, name, 'pending' FROM unnest($2::text[]) WITH ORDINALITY AS s(name, ordinality)`,
      [id, steps],
    );
  }
  const row = rows[0];
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return toJob(row);
}

export async function getJob(db: Queryable, id: string): Promise<JobRecord | undefined> {
  const { rows } = await db.query<JobRow>('SELECT * FROM jobs WHERE id = $1', [id]);
  return rows[0] ? toJob(rows[0]) : undefined;
}

/**
 * Claim a job for this worker: a queued job, or a running one whose worker stopped heartbeating
 * (it crashed or was killed). A job another live worker holds is left alone, so a duplicate
 * delivery never runs it twice at once.
 */
export async function claimJob(db: Queryable, id: string, workerId: string, leaseSeconds: number): Promise<JobRecord | undefined> {
  const { rows } = await db.query<JobRow>(
    `UPDATE jobs SET status = 'running', attempts = attempts + 1, worker_id = $2, heartbeat_at = now(),
            started_at = COALESCE(started_at, now()), updated_at = now()
      WHERE id = $1 AND NOT cancel_requested
        AND (status = 'queued' OR (status = 'running' AND (worker_id IS NULL OR heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => $3))))
      RETURNING *`,
    [id, workerId, leaseSeconds],
  );
  return rows[0] ? toJob(rows[0]) : undefined;
}

/** Renew this worker's lease; answers whether cancellation was requested meanwhile. */
export async function heartbeat(db: Queryable, id: string, workerId: string): Promise<{ held: boolean; cancelRequested: boolean }> {
  const { rows } = await db.query<{ cancel_requested: boolean }>(
    `UPDATE jobs SET heartbeat_at = now() WHERE id = $1 AND worker_id = $2 AND status = 'running' RETURNING cancel_requested`,
    [id, workerId],
  );
  return { held: rows.length > 0, cancelRequested: rows[0]?.cancel_requested ?? false };
}

/** Running jobs whose worker stopped heartbeating; locked so one sweeper handles each. */
export async function staleJobs(db: Queryable, leaseSeconds: number): Promise<JobRecord[]> {
  const { rows } = await db.query<JobRow>(
    `SELECT * FROM jobs WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => $1)
      ORDER BY heartbeat_at LIMIT 50 FOR UPDATE SKIP LOCKED`,
    [leaseSeconds * 2],
  );
  return rows.map(toJob);
}

/** Hand a job whose worker died back to the queue: no worker holds it until one claims it. */
export async function releaseJob(db: Queryable, id: string): Promise<void> {
  await db.query(`UPDATE jobs SET worker_id = NULL, heartbeat_at = now(), updated_at = now() WHERE id = $1`, [id]);
}

/** A queued job that was cancelled before a worker took it ends at once. */
export async function cancelQueuedJob(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE jobs SET status = 'cancelled', cancel_requested = true, finished_at = now(), updated_at = now(),
            error = '{"code":"job_cancelled","message":"Cancelled before it started"}'::jsonb
      WHERE id = $1 AND status = 'queued'`,
    [id],
  );
  return (rowCount ?? 0) > 0;
}

export async function listJobsOfSubject(db: Queryable, subjectType: string, subjectId: string): Promise<JobRecord[]> {
  const { rows } = await db.query<JobRow>('SELECT * FROM jobs WHERE subject_type = $1 AND subject_id = $2 ORDER BY created_at', [subjectType, subjectId]);
  return rows.map(toJob);
}

export async function finishJob(
  db: Queryable,
  id: string,
  outcome: { status: JobStatus; result?: unknown; error?: JobError | null },
): Promise<void> {
  await db.query(
    `UPDATE jobs SET status = $2, result = $3, error = $4, finished_at = now(), updated_at = now() WHERE id = $1`,
    [id, outcome.status, outcome.result === undefined ? null : JSON.stringify(outcome.result), outcome.error ?? null],
  );
}

export async function requestCancel(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE jobs SET cancel_requested = true, updated_at = now() WHERE id = $1 AND status IN ('queued', 'running')`,
    [id],
  );
  return (rowCount ?? 0) > 0;
}

export async function isCancelRequested(db: Queryable, id: string): Promise<boolean> {
  const { rows } = await db.query<{ cancel_requested: boolean }>('SELECT cancel_requested FROM jobs WHERE id = $1', [id]);
  return rows[0]?.cancel_requested ?? false;
}

export interface StepEvent {
  type: string;
  message: string;
  data?: unknown;
}

/**
 * Records a step's status and, when given, the event that tells it, in one statement: one round
 * trip (and one commit) per transition instead of two, and never a step without its event.
 */
export async function setStep(
  db: Queryable,
  jobId: string,
  name: string,
  status: StepStatus,
  detail: string | null = null,
  event?: StepEvent,
): Promise<void> {
  const starting = status === 'running';
  await db.query(
    `WITH step AS (
       INSERT INTO job_steps (job_id, position, name, status, detail, started_at, finished_at)
       VALUES ($1, (SELECT COALESCE(MAX(position), 0) + 1 FROM job_steps WHERE job_id = $1), $2, $3, $4,
               CASE WHEN $5 THEN now() END, CASE WHEN NOT $5 THEN now() END)
       ON CONFLICT (job_id, name) DO UPDATE SET
         status = EXCLUDED.status,
         detail = COALESCE(EXCLUDED.detail, job_steps.detail),
         started_at = CASE WHEN $5 THEN now() ELSE COALESCE(job_steps.started_at, now()) END,
         finished_at = CASE WHEN $5 THEN NULL ELSE now() END
       RETURNING job_id
     ), event AS (
       INSERT INTO job_events (job_id, type, message, data)
       SELECT job_id, $6::text, $7::text, $8::jsonb FROM step WHERE $6::text IS NOT NULL
       RETURNING id
     ) SELECT pg_notify($9, $1::text) FROM event`,
    [
      jobId,
      name,
      status,
      detail,
      starting,
      event?.type ?? null,
      event?.message ?? null,
      event?.data === undefined ? null : JSON.stringify(event.data),
      JOB_EVENTS_CHANNEL,
    ],
  );
}

interface StepRow {
  name: string;
  status: StepStatus;
  detail: string | null;
  started_at: Date | null;
  finished_at: Date | null;
}

export async function listSteps(db: Queryable, jobId: string): Promise<JobStep[]> {
  const { rows } = await db.query<StepRow>(
    'SELECT name, status, detail, started_at, finished_at FROM job_steps WHERE job_id = $1 ORDER BY position',
    [jobId],
  );
  return rows.map((row) => ({
    name: row.name,
    status: row.status,
    detail: row.detail,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    durationMs: row.started_at && row.finished_at ? row.finished_at.getTime() - row.started_at.getTime() : null,
  }));
}

interface EventRow {
  id: string;
  job_id: string;
  at: Date;
  type: string;
  message: string;
  data: unknown;
}

/** Append an event and wake every replica's listeners (NOTIFY is delivered on commit). */
export async function appendEvent(db: Queryable, jobId: string, type: string, message: string, data?: unknown): Promise<void> {
  await db.query(
    `WITH inserted AS (
       INSERT INTO job_events (job_id, type, message, data) VALUES ($1, $2, $3, $4) RETURNING id
     ) SELECT pg_notify($5, $1::text) FROM inserted`,
    [jobId, type, message, data === undefined ? null : JSON.stringify(data), JOB_EVENTS_CHANNEL],
  );
}

/** Events of several jobs after an event id (the SSE resume point), oldest first. */
export async function listEvents(db: Queryable, jobIds: readonly string[], afterId = '0', limit = 500): Promise<JobEvent[]> {
  const { rows } = await db.query<EventRow>(
    'SELECT id, job_id, at, type, message, data FROM job_events WHERE job_id = ANY($1::uuid[]) AND id > $2 ORDER BY id LIMIT $3',
    [jobIds, afterId, limit],
  );
  return rows.map((row) => ({ id: String(row.id), jobId: row.job_id, at: row.at.toISOString(), type: row.type, message: row.message, data: row.data }));
}
