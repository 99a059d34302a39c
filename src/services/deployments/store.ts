import type { Queryable } from '../../adapters/db/pool.js';
import type { JobError } from '../../jobs/model.js';
import type { DeployedService, Deployment, DeploymentStatus } from './model.js';
import type { PreflightResult } from './preflight.js';
import type { LiveHealth, LiveSync } from '../../domain/health/live.js';

/** SQL for the deployments table. The sealed kube config is read only by `getSealedKubeconfig`. */
interface DeploymentRow {
  id: string;
  owner: string;
  solution_id: string;
  revision_id: string;
  solution_name: string | null;
  solution_kind: string | null;
  namespace: string;
  cluster_server: string | null;
  status: DeploymentStatus;
  services: DeployedService[];
  error: JobError | null;
  job_id: string | null;
  applied: string[];
  callback_url: string | null;
  cleanup_on_failure: boolean;
  rollback_of: string | null;
  preflight: PreflightResult | null;
  health: LiveHealth | null;
  sync: LiveSync | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  'id, owner, solution_id, revision_id, solution_name, solution_kind, namespace, cluster_server, status, services, error, job_id, applied, callback_url, cleanup_on_failure, rollback_of, preflight, health, sync, created_at, updated_at';

function toDeployment(row: DeploymentRow): Deployment {
  return {
    id: row.id,
    owner: row.owner,
    solutionId: row.solution_id,
    revisionId: row.revision_id,
    solutionName: row.solution_name,
    solutionKind: row.solution_kind,
    namespace: row.namespace,
    clusterServer: row.cluster_server,
    status: row.status,
    services: row.services,
    error: row.error,
    jobId: row.job_id,
    applied: row.applied,
    callbackUrl: row.callback_url,
    cleanupOnFailure: row.cleanup_on_failure,
    rollbackOf: row.rollback_of,
    preflight: row.preflight,
    health: row.health,
    sync: row.sync,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export interface NewDeployment {
  id: string;
  owner: string;
  solutionId: string;
  revisionId: string;
  solutionName: string;
  solutionKind: string;
  namespace: string;
  clusterServer: string;
  sealedKubeconfig: string;
  jobId: string;
  callbackUrl?: string;
  cleanupOnFailure?: boolean;
  rollbackOf?: string;
}

/** The cluster and namespace as one comparable key: one operation at a time per key. */
export function targetKey(clusterServer: string, namespace: string): string {
  return `${clusterServer} ${namespace}`;
}

/** Thrown by insertDeployment when the target already has a queued, running or deleting deployment. */
export class TargetBusyError extends Error {}

export async function insertDeployment(db: Queryable, d: NewDeployment): Promise<Deployment> {
  let rows: DeploymentRow[];
  try {
    ({ rows } = await db.query<DeploymentRow>(
      `INSERT INTO deployments (id, owner, solution_id, revision_id, solution_name, solution_kind, namespace,
                                cluster_server, kubeconfig_enc, job_id, status, target_key, callback_url,
                                cleanup_on_failure, rollback_of)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued', $11, $12, $13, $14) RETURNING ${COLUMNS}`,
      [
        d.id, d.owner, d.solutionId, d.revisionId, d.solutionName, d.solutionKind, d.namespace, d.clusterServer,
        d.sealedKubeconfig, d.jobId, targetKey(d.clusterServer, d.namespace), d.callbackUrl ?? null,
        d.cleanupOnFailure ?? false, d.rollbackOf ?? null,
      ],
    ));
  } catch (error: unknown) {
    if (isUniqueViolation(error, 'deployments_one_busy_per_target')) throw new TargetBusyError();
    throw error;
  }
  const row = rows[0];
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return toDeployment(row);
}

export async function getDeployment(db: Queryable, id: string): Promise<Deployment | undefined> {
  const { rows } = await db.query<DeploymentRow>(`SELECT ${COLUMNS} FROM deployments WHERE id = $1`, [id]);
  return rows[0] ? toDeployment(rows[0]) : undefined;
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === '23505' &&
    'constraint' in error && error.constraint === constraint;
}

/** The deployment of a target that is queued, running or deleting, if any. */
export async function busyDeploymentOf(db: Queryable, key: string): Promise<Deployment | undefined> {
  const { rows } = await db.query<DeploymentRow>(
    `SELECT ${COLUMNS} FROM deployments WHERE target_key = $1 AND status IN ('queued', 'running', 'deleting') LIMIT 1`,
    [key],
  );
  return rows[0] ? toDeployment(rows[0]) : undefined;
}

/** Every deployment of the same cluster and namespace, newest first: the namespace's revision history. */
export async function historyOf(db: Queryable, key: string): Promise<Deployment[]> {
  const { rows } = await db.query<DeploymentRow>(`SELECT ${COLUMNS} FROM deployments WHERE target_key = $1 ORDER BY created_at DESC, id DESC`, [key]);
  return rows.map(toDeployment);
}

/**
 * The deployment id a deploy labels its objects with: the first deployment of the same revision
 * in the same cluster and namespace that succeeded (still standing: an undeploy marks them all
 * deleted), else its own. A re-deploy of a revision that is there then applies byte for byte what
 * is there, so nothing changes (same resourceVersions); prune still removes everything labelled
 * otherwise.
 */
export async function revisionLabelId(db: Queryable, id: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT earlier.id FROM deployments d
       JOIN deployments earlier ON earlier.target_key = d.target_key AND earlier.solution_id = d.solution_id
                               AND earlier.revision_id = d.revision_id AND earlier.status = 'succeeded' AND earlier.id <> d.id
      WHERE d.id = $1 ORDER BY earlier.created_at, earlier.id LIMIT 1`,
    [id],
  );
  return rows[0]?.id ?? id;
}

/** The first succeeded deployment of this revision on this target: a re-deploy labels its objects with it. */
export async function standingRevisionId(db: Queryable, of: { targetKey: string; solutionId: string; revisionId: string }): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM deployments WHERE target_key = $1 AND solution_id = $2 AND revision_id = $3 AND status = 'succeeded'
      ORDER BY created_at, id LIMIT 1`,
    [of.targetKey, of.solutionId, of.revisionId],
  );
  return rows[0]?.id;
}

export async function targetKeyOf(db: Queryable, id: string): Promise<string | undefined> {
  const { rows } = await db.query<{ target_key: string }>('SELECT target_key FROM deployments WHERE id = $1', [id]);
  return rows[0]?.target_key;
}

export interface DeploymentFilter {
  owner?: string;
  solutionId?: string;
  status?: string;
  namespace?: string;
  /** Continue after this (createdAt, id), newest first. */
  after?: { createdAt: string; id: string };
  limit: number;
}

export async function listDeployments(db: Queryable, filter: DeploymentFilter): Promise<Deployment[]> {
  const { rows } = await db.query<DeploymentRow>(
    `SELECT ${COLUMNS} FROM deployments
      WHERE ($1::text IS NULL OR owner = $1) AND ($2::text IS NULL OR solution_id = $2)
        AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR namespace = $4)
        AND ($5::timestamptz IS NULL OR (created_at, id) < ($5::timestamptz, $6::uuid))
      ORDER BY created_at DESC, id DESC LIMIT $7`,
    [filter.owner ?? null, filter.solutionId ?? null, filter.status ?? null, filter.namespace ?? null, filter.after?.createdAt ?? null, filter.after?.id ?? null, filter.limit],
  );
  return rows.map(toDeployment);
}

/** The solutions deployed (by `owner`, or by anyone), for the deployments page's filter. */
export async function deployedSolutions(db: Queryable, owner: string | undefined): Promise<Array<{ solutionId: string; name: string | null }>> {
  const { rows } = await db.query<{ solution_id: string; name: string | null }>(
    `SELECT solution_id, max(solution_name) AS name FROM deployments WHERE ($1::text IS NULL OR owner = $1)
      GROUP BY solution_id ORDER BY lower(coalesce(max(solution_name), solution_id)), solution_id LIMIT 500`,
    [owner ?? null],
  );
  return rows.map((row) => ({ solutionId: row.solution_id, name: row.name }));
}

export async function setNamespaceCreated(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE deployments SET namespace_created = true WHERE id = $1', [id]);
}

/** Whether Slipway created the namespace for any deployment of this target (then it removes it too). */
export async function namespaceCreatedFor(db: Queryable, key: string): Promise<boolean> {
  const { rows } = await db.query<{ created: boolean }>('SELECT bool_or(namespace_created) AS created FROM deployments WHERE target_key = $1', [key]);
  return rows[0]?.created ?? false;
}

export async function setApplied(db: Queryable, id: string, applied: string[]): Promise<void> {
  await db.query('UPDATE deployments SET applied = $2, updated_at = now() WHERE id = $1', [id, JSON.stringify(applied)]);
}

/** After an undeploy: every deployment of the target is gone from the cluster. */
export async function markTargetDeleted(db: Queryable, key: string): Promise<void> {
  await db.query(`UPDATE deployments SET status = 'deleted', updated_at = now() WHERE target_key = $1 AND status <> 'deleted'`, [key]);
}

export async function getSealedKubeconfig(db: Queryable, id: string): Promise<string | undefined> {
  const { rows } = await db.query<{ kubeconfig_enc: string | null }>('SELECT kubeconfig_enc FROM deployments WHERE id = $1', [id]);
  return rows[0]?.kubeconfig_enc ?? undefined;
}

export async function updateDeployment(
  db: Queryable,
  id: string,
  change: { status?: DeploymentStatus; services?: DeployedService[]; error?: JobError | null; jobId?: string },
): Promise<void> {
  await db.query(
    `UPDATE deployments SET
       status = COALESCE($2, status),
       services = COALESCE($3, services),
       error = CASE WHEN $4::boolean THEN $5::jsonb ELSE error END,
       job_id = COALESCE($6, job_id),
       updated_at = now()
     WHERE id = $1`,
    [id, change.status ?? null, change.services ? JSON.stringify(change.services) : null, change.error !== undefined, change.error ? JSON.stringify(change.error) : null, change.jobId ?? null],
  );
}

export async function setPreflight(db: Queryable, id: string, preflight: PreflightResult): Promise<void> {
  await db.query('UPDATE deployments SET preflight = $2, updated_at = now() WHERE id = $1', [id, JSON.stringify(preflight)]);
}

/** Health and sync as the live watcher saw them; null clears them (a new deploy of the row starts). */
export async function setLiveState(db: Queryable, id: string, live: { health: LiveHealth; sync: LiveSync } | null): Promise<void> {
  await db.query('UPDATE deployments SET health = $2, sync = $3 WHERE id = $1', [id, live ? JSON.stringify(live.health) : null, live ? JSON.stringify(live.sync) : null]);
}

/**
 * Deployments that are live: succeeded, and the namespace not taken since by a later deployment
 * (one that failed or was cancelled leaves the earlier one standing).
 */
export async function liveDeploymentIds(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT d.id FROM deployments d
      WHERE d.status = 'succeeded'
        AND NOT EXISTS (SELECT 1 FROM deployments later WHERE later.target_key = d.target_key AND later.created_at > d.created_at
                          AND later.status NOT IN ('failed', 'cancelled'))
      ORDER BY d.created_at`,
  );
  return rows.map((r) => r.id);
}
