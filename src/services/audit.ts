import type { Queryable } from '../adapters/db/pool.js';

/** Who did what, to which cluster and namespace, with which result, when. */
export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  clusterServer: string | null;
  namespace: string | null;
  result: string;
  detail: unknown;
}

export interface NewAuditEntry {
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  clusterServer?: string | null;
  namespace?: string | null;
  result: string;
  detail?: unknown;
}

export async function recordAudit(db: Queryable, entry: NewAuditEntry): Promise<void> {
  await db.query(
    `INSERT INTO audit_log (actor, action, subject_type, subject_id, cluster_server, namespace, result, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [entry.actor, entry.action, entry.subjectType, entry.subjectId, entry.clusterServer ?? null, entry.namespace ?? null, entry.result, entry.detail === undefined ? null : JSON.stringify(entry.detail)],
  );
}

interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  action: string;
  subject_type: string;
  subject_id: string;
  cluster_server: string | null;
  namespace: string | null;
  result: string;
  detail: unknown;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  subjectId?: string;
  /** Entries older than this id (cursor), newest first. */
  beforeId?: string;
  limit: number;
}

export async function listAudit(db: Queryable, filter: AuditFilter): Promise<AuditEntry[]> {
  const { rows } = await db.query<AuditRow>(
    `SELECT * FROM audit_log
      WHERE ($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR action = $2)
        AND ($3::text IS NULL OR subject_id = $3) AND ($4::bigint IS NULL OR id < $4)
      ORDER BY id DESC LIMIT $5`,
    [filter.actor ?? null, filter.action ?? null, filter.subjectId ?? null, filter.beforeId ?? null, filter.limit],
  );
  return rows.map((row) => ({
    id: String(row.id),
    at: row.at.toISOString(),
    actor: row.actor,
    action: row.action,
    subjectType: row.subject_type,
    subjectId: row.subject_id,
    clusterServer: row.cluster_server,
    namespace: row.namespace,
    result: row.result,
    detail: row.detail,
  }));
}
