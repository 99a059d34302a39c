import type { Queryable } from '../../adapters/db/pool.js';
import type { JobError } from '../../jobs/model.js';
import type { DeployedService, Deployment, DeploymentStatus } from './model.js';

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
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  'id, owner, solution_id, revision_id, solution_name, solution_kind, namespace, cluster_server, status, services, error, job_id, created_at, updated_at';

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
}

export async function insertDeployment(db: Queryable, d: NewDeployment): Promise<Deployment> {
  const { rows } = await db.query<DeploymentRow>(
    `INSERT INTO deployments (id, owner, solution_id, revision_id, solution_name, solution_kind, namespace,
                              cluster_server, kubeconfig_enc, job_id, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued') RETURNING ${COLUMNS}`,
    [d.id, d.owner, d.solutionId, d.revisionId, d.solutionName, d.solutionKind, d.namespace, d.clusterServer, d.sealedKubeconfig, d.jobId],
  );
  const row = rows[0];
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return toDeployment(row);
}

export async function getDeployment(db: Queryable, id: string): Promise<Deployment | undefined> {
  const { rows } = await db.query<DeploymentRow>(`SELECT ${COLUMNS} FROM deployments WHERE id = $1`, [id]);
  return rows[0] ? toDeployment(rows[0]) : undefined;
}

export async function getSealedKubeconfig(db: Queryable, id: string): Promise<string | undefined> {
  const { rows } = await db.query<{ kubeconfig_enc: string | null }>('SELECT kubeconfig_enc FROM deployments WHERE id = $1', [id]);
  return rows[0]?.kubeconfig_enc ?? undefined;
}

export async function updateDeployment(
  db: Queryable,
  id: string,
  change: { status?: DeploymentStatus; services?: DeployedService[]; error?: JobError | null },
): Promise<void> {
  await db.query(
    `UPDATE deployments SET
       status = COALESCE($2, status),
       services = COALESCE($3, services),
       error = CASE WHEN $4::boolean THEN $5::jsonb ELSE error END,
       updated_at = now()
     WHERE id = $1`,
    [id, change.status ?? null, change.services ? JSON.stringify(change.services) : null, change.error !== undefined, change.error ? JSON.stringify(change.error) : null],
  );
}
