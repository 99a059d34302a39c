import type { Queryable } from '../../adapters/db/pool.js';
import type { BootstrapEngine, BootstrapHost, BootstrapPlan, BootstrapRequest } from '../../domain/bootstrap/index.js';
import type { JobError } from '../../jobs/model.js';
import type { Cluster, ClusterOrigin, ClusterStatus } from './model.js';

/** SQL for the cluster registry. The sealed kube config is read only by `getSealedKubeconfig`. */
type ClusterRow = Omit<Cluster, 'jobId' | 'createdAt' | 'updatedAt'> & { job_id: string | null; created_at: Date; updated_at: Date };

const COLUMNS = 'id, name, owner, server, origin, site, engine, request, plan, nodes, status, error, job_id, created_at, updated_at';

const toCluster = (row: ClusterRow): Cluster => ({
  id: row.id,
  name: row.name,
  owner: row.owner,
  server: row.server,
  origin: row.origin,
  site: row.site,
  engine: row.engine,
  request: row.request,
  plan: row.plan,
  nodes: row.nodes,
  status: row.status,
  error: row.error,
  jobId: row.job_id,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

export interface NewCluster {
  id: string;
  name: string;
  owner: string;
  origin: ClusterOrigin;
  status: ClusterStatus;
  server?: string;
  sealedKubeconfig?: string;
  site?: string;
  engine?: BootstrapEngine;
  request?: BootstrapRequest;
  plan?: BootstrapPlan;
  nodes?: BootstrapHost[];
  jobId?: string;
}

/** Undefined when the owner already has a cluster of that name. */
export async function insertCluster(db: Queryable, c: NewCluster): Promise<Cluster | undefined> {
  const { rows } = await db.query<ClusterRow>(
    `INSERT INTO clusters (id, name, owner, origin, status, server, kubeconfig_enc, site, engine, request, plan, nodes, job_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (owner, name) DO NOTHING RETURNING ${COLUMNS}`,
    [c.id, c.name, c.owner, c.origin, c.status, c.server ?? null, c.sealedKubeconfig ?? null, c.site ?? null, c.engine ?? null,
      c.request ? JSON.stringify(c.request) : null, c.plan ? JSON.stringify(c.plan) : null, JSON.stringify(c.nodes ?? []), c.jobId ?? null],
  );
  return rows[0] ? toCluster(rows[0]) : undefined;
}

export async function getCluster(db: Queryable, id: string): Promise<Cluster | undefined> {
  const { rows } = await db.query<ClusterRow>(`SELECT ${COLUMNS} FROM clusters WHERE id = $1`, [id]);
  return rows[0] ? toCluster(rows[0]) : undefined;
}

/** Locked for the caller's transaction (one scale-out or job assignment at a time). */
export async function lockCluster(db: Queryable, id: string): Promise<Cluster | undefined> {
  const { rows } = await db.query<ClusterRow>(`SELECT ${COLUMNS} FROM clusters WHERE id = $1 FOR UPDATE`, [id]);
  return rows[0] ? toCluster(rows[0]) : undefined;
}

export async function listClusters(db: Queryable, filter: { owner?: string; site?: string; status?: ClusterStatus }): Promise<Cluster[]> {
  const { rows } = await db.query<ClusterRow>(
    `SELECT ${COLUMNS} FROM clusters
      WHERE ($1::text IS NULL OR owner = $1) AND ($2::text IS NULL OR site = $2) AND ($3::text IS NULL OR status = $3)
      ORDER BY name, created_at`,
    [filter.owner ?? null, filter.site ?? null, filter.status ?? null],
  );
  return rows.map(toCluster);
}

export async function deleteCluster(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM clusters WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

export async function getSealedKubeconfig(db: Queryable, id: string): Promise<string | undefined> {
  const { rows } = await db.query<{ kubeconfig_enc: string | null }>('SELECT kubeconfig_enc FROM clusters WHERE id = $1', [id]);
  return rows[0]?.kubeconfig_enc ?? undefined;
}

export async function setClusterJob(db: Queryable, id: string, jobId: string): Promise<void> {
  await db.query('UPDATE clusters SET job_id = $2, updated_at = now() WHERE id = $1', [id, jobId]);
}

/** A bootstrap or scale-out finished: the new kube config (sealed), the plan and the nodes. */
export async function setClusterReady(db: Queryable, id: string, update: { server: string; sealedKubeconfig: string; plan: BootstrapPlan; nodes: BootstrapHost[] }): Promise<void> {
  await db.query(
    `UPDATE clusters SET status = 'ready', error = NULL, server = $2, kubeconfig_enc = $3, plan = $4, nodes = $5, updated_at = now() WHERE id = $1`,
    [id, update.server, update.sealedKubeconfig, JSON.stringify(update.plan), JSON.stringify(update.nodes)],
  );
}

export async function setClusterStatus(db: Queryable, id: string, status: ClusterStatus, error: JobError | null): Promise<void> {
  await db.query('UPDATE clusters SET status = $2, error = $3, updated_at = now() WHERE id = $1', [id, status, error]);
}

/** Whether the cluster's current job is still queued or running. */
export async function clusterBusyJob(db: Queryable, id: string): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT j.id FROM jobs j WHERE j.subject_type = 'cluster' AND j.subject_id = $1 AND j.kind IN ('bootstrap', 'scale-out') AND j.status IN ('queued', 'running') LIMIT 1`,
    [id],
  );
  return rows[0]?.id;
}
