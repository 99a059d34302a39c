import type { Queryable } from '../../adapters/db/pool.js';
import type { NodePackages, PackageVersions } from './rollout-plan.js';

/** SQL for package versions of a cluster and what each node has installed. */
export interface PackageRecord {
  clusterId: string;
  name: string;
  version: string;
  sha256: string;
  size: number;
  owner: string;
  /** The latest uploaded version of its name: what the nodes should have. */
  current: boolean;
  createdAt: string;
}

interface PackageRow {
  cluster_id: string;
  name: string;
  version: string;
  sha256: string;
  size: string;
  owner: string;
  current: boolean;
  created_at: Date;
}

/** False when that version was recorded before (a retried completion). */
export async function insertPackage(db: Queryable, p: { clusterId: string; name: string; version: string; sha256: string; size: number; path: string; owner: string }): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO packages (cluster_id, name, version, sha256, size, path, owner) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [p.clusterId, p.name, p.version, p.sha256, p.size, p.path, p.owner],
  );
  return (rowCount ?? 0) > 0;
}

export async function setRolloutJob(db: Queryable, clusterId: string, name: string, version: string, jobId: string): Promise<void> {
  await db.query('UPDATE packages SET rollout_job_id = $4 WHERE cluster_id = $1 AND name = $2 AND version = $3', [clusterId, name, version, jobId]);
}

/** The rollout job the version's upload started, if it is still there. */
export async function rolloutJobOf(db: Queryable, clusterId: string, name: string, version: string): Promise<string | null> {
  const { rows } = await db.query<{ rollout_job_id: string | null }>('SELECT rollout_job_id FROM packages WHERE cluster_id = $1 AND name = $2 AND version = $3', [clusterId, name, version]);
  return rows[0]?.rollout_job_id ?? null;
}

export async function packageExists(db: Queryable, clusterId: string, name: string, version: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM packages WHERE cluster_id = $1 AND name = $2 AND version = $3', [clusterId, name, version]);
  return rows.length > 0;
}

export async function packageFile(db: Queryable, clusterId: string, name: string, version: string): Promise<{ path: string; size: number; sha256: string } | undefined> {
  const { rows } = await db.query<{ path: string; size: string; sha256: string }>('SELECT path, size, sha256 FROM packages WHERE cluster_id = $1 AND name = $2 AND version = $3', [clusterId, name, version]);
  const row = rows[0];
  return row ? { path: row.path, size: Number(row.size), sha256: row.sha256 } : undefined;
}

export async function listPackages(db: Queryable, clusterId: string): Promise<PackageRecord[]> {
  const { rows } = await db.query<PackageRow>(
    `SELECT p.cluster_id, p.name, p.version, p.sha256, p.size, p.owner, p.created_at,
            p.created_at = max(p.created_at) OVER (PARTITION BY p.name) AS current
       FROM packages p WHERE p.cluster_id = $1 ORDER BY p.name, p.created_at DESC`,
    [clusterId],
  );
  return rows.map((r) => ({ clusterId: r.cluster_id, name: r.name, version: r.version, sha256: r.sha256, size: Number(r.size), owner: r.owner, current: r.current, createdAt: r.created_at.toISOString() }));
}

/** Name → the latest uploaded version. */
export async function currentPackages(db: Queryable, clusterId: string): Promise<PackageVersions> {
  const { rows } = await db.query<{ name: string; version: string }>(
    'SELECT DISTINCT ON (name) name, version FROM packages WHERE cluster_id = $1 ORDER BY name, created_at DESC',
    [clusterId],
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.version]));
}

export async function installedPackages(db: Queryable, clusterId: string, nodes: readonly string[]): Promise<NodePackages[]> {
  const { rows } = await db.query<{ node: string; name: string; version: string }>(
    'SELECT node, name, version FROM node_packages WHERE cluster_id = $1 AND node = ANY($2)',
    [clusterId, nodes],
  );
  return nodes.map((node) => ({ name: node, installed: Object.fromEntries(rows.filter((r) => r.node === node).map((r) => [r.name, r.version])) }));
}

/** One statement per node, whatever the number of packages. */
export async function recordInstalled(db: Queryable, clusterId: string, node: string, packages: PackageVersions, jobId: string): Promise<void> {
  const entries = Object.entries(packages);
  if (entries.length === 0) return;
  await db.query(
    `INSERT INTO node_packages (cluster_id, node, name, version, job_id)
     SELECT $1, $2, name, version, $5 FROM unnest($3::text[], $4::text[]) AS p(name, version)
     ON CONFLICT (cluster_id, node, name) DO UPDATE SET version = EXCLUDED.version, job_id = EXCLUDED.job_id, updated_at = now()`,
    [clusterId, node, entries.map(([name]) => name), entries.map(([, version]) => version), jobId],
  );
}

/** The nodes a rollout planned for: known from now on, so only Nodes that join later are new. */
export async function recordNodesSeen(db: Queryable, clusterId: string, nodes: readonly string[]): Promise<void> {
  if (nodes.length === 0) return;
  await db.query('INSERT INTO cluster_nodes (cluster_id, node) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [clusterId, nodes]);
}

/** Of `nodes`, those no rollout of the cluster has planned for yet, in the order given. */
export async function unseenNodes(db: Queryable, clusterId: string, nodes: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ node: string }>('SELECT node FROM cluster_nodes WHERE cluster_id = $1 AND node = ANY($2)', [clusterId, nodes]);
  const seen = new Set(rows.map((r) => r.node));
  return nodes.filter((node) => !seen.has(node));
}

/**
 * Ready clusters that have at least one package and no package rollout queued or running: the
 * ones a new Node may need a rollout for.
 */
export async function clustersToSync(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT c.id FROM clusters c
      WHERE c.status = 'ready' AND c.kubeconfig_enc IS NOT NULL
        AND EXISTS (SELECT 1 FROM packages p WHERE p.cluster_id = c.id)
        AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.kind = 'package-rollout' AND j.subject_type = 'cluster'
                          AND j.subject_id = c.id::text AND j.status IN ('queued', 'running'))
      ORDER BY c.created_at`,
  );
  return rows.map((r) => r.id);
}

/** The cluster's package rollout that is queued or running, if any. */
export async function activeRollout(db: Queryable, clusterId: string): Promise<{ id: string; status: string } | undefined> {
  const { rows } = await db.query<{ id: string; status: string }>(
    `SELECT id, status FROM jobs WHERE kind = 'package-rollout' AND subject_type = 'cluster' AND subject_id = $1 AND status IN ('queued', 'running')
      ORDER BY created_at LIMIT 1`,
    [clusterId],
  );
  return rows[0];
}
