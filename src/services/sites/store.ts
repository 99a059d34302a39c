import type { Queryable } from '../../adapters/db/pool.js';
import type { ConfigDrive, HostSpec } from '../../domain/baremetal/host.js';
import type { HostErrorType, HostState } from '../../domain/baremetal/states.js';
import type { Host, HostLocation, HostObservedState, Site } from './model.js';

/** SQL for sites and hosts. Credentials are read only by `getSealedCredentials`. */
interface SiteRow {
  name: string;
  description: string;
  owner: string;
  created_at: Date;
  updated_at: Date;
}

const toSite = (row: SiteRow): Site => ({
  name: row.name,
  description: row.description,
  owner: row.owner,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

export async function insertSite(db: Queryable, site: { name: string; description: string; owner: string }): Promise<Site | undefined> {
  const { rows } = await db.query<SiteRow>(
    'INSERT INTO sites (name, description, owner) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING *',
    [site.name, site.description, site.owner],
  );
  return rows[0] ? toSite(rows[0]) : undefined;
}

export async function getSite(db: Queryable, name: string): Promise<Site | undefined> {
  const { rows } = await db.query<SiteRow>('SELECT * FROM sites WHERE name = $1', [name]);
  return rows[0] ? toSite(rows[0]) : undefined;
}

export async function listSites(db: Queryable): Promise<Site[]> {
  const { rows } = await db.query<SiteRow>('SELECT * FROM sites ORDER BY name');
  return rows.map(toSite);
}

export async function deleteSite(db: Queryable, name: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM sites WHERE name = $1', [name]);
  return (rowCount ?? 0) > 0;
}

interface HostRow {
  id: string;
  node_name: string;
  observed: HostObservedState | null;
  site: string;
  name: string;
  spec: HostSpec;
  location: HostLocation;
  config_drive: ConfigDrive;
  labels: Record<string, string>;
  state: HostState;
  error_type: HostErrorType | null;
  error_message: string | null;
  node_id: string | null;
  powered_on: boolean | null;
  address: string | null;
  job_id: string | null;
  created_at: Date;
  updated_at: Date;
}

const HOST_COLUMNS = 'id, node_name, observed, site, name, spec, location, config_drive, labels, state, error_type, error_message, node_id, powered_on, address, job_id, created_at, updated_at';

const toHost = (row: HostRow): Host => ({
  id: row.id,
  nodeName: row.node_name,
  observed: row.observed,
  site: row.site,
  name: row.name,
  spec: row.spec,
  location: row.location,
  configDrive: row.config_drive,
  labels: row.labels,
  state: row.state,
  errorType: row.error_type,
  errorMessage: row.error_message,
  nodeId: row.node_id,
  poweredOn: row.powered_on,
  address: row.address,
  jobId: row.job_id,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

export interface HostWrite {
  site: string;
  spec: HostSpec;
  sealedCredentials: string;
  location: HostLocation;
  configDrive: ConfigDrive;
  labels: Record<string, string>;
}

export async function insertHost(db: Queryable, host: HostWrite): Promise<Host> {
  const { rows } = await db.query<HostRow>(
    `INSERT INTO hosts (site, name, spec, bmc_credentials_enc, location, config_drive, labels)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${HOST_COLUMNS}`,
    [host.site, host.spec.name, JSON.stringify(host.spec), host.sealedCredentials, JSON.stringify(host.location), JSON.stringify(host.configDrive), JSON.stringify(host.labels)],
  );
  const row = rows[0];
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return toHost(row);
}

export async function replaceHost(db: Queryable, host: HostWrite & { keepCredentials: boolean }): Promise<Host | undefined> {
  const { rows } = await db.query<HostRow>(
    `UPDATE hosts SET spec = $3, bmc_credentials_enc = CASE WHEN $8 THEN bmc_credentials_enc ELSE $4 END,
            location = $5, config_drive = $6, labels = $7, updated_at = now()
      WHERE site = $1 AND name = $2 RETURNING ${HOST_COLUMNS}`,
    [host.site, host.spec.name, JSON.stringify(host.spec), host.sealedCredentials, JSON.stringify(host.location), JSON.stringify(host.configDrive), JSON.stringify(host.labels), host.keepCredentials],
  );
  return rows[0] ? toHost(rows[0]) : undefined;
}

export async function getHost(db: Queryable, site: string, name: string): Promise<Host | undefined> {
  const { rows } = await db.query<HostRow>(`SELECT ${HOST_COLUMNS} FROM hosts WHERE site = $1 AND name = $2`, [site, name]);
  return rows[0] ? toHost(rows[0]) : undefined;
}

export async function listHosts(db: Queryable, site: string, names?: readonly string[]): Promise<Host[]> {
  const { rows } = await db.query<HostRow>(
    `SELECT ${HOST_COLUMNS} FROM hosts WHERE site = $1 AND ($2::text[] IS NULL OR name = ANY($2)) ORDER BY name`,
    [site, names ?? null],
  );
  return rows.map(toHost);
}

export async function deleteHost(db: Queryable, site: string, name: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM hosts WHERE site = $1 AND name = $2', [site, name]);
  return (rowCount ?? 0) > 0;
}

export async function getSealedCredentials(db: Queryable, site: string, name: string): Promise<string | undefined> {
  const { rows } = await db.query<{ bmc_credentials_enc: string }>('SELECT bmc_credentials_enc FROM hosts WHERE site = $1 AND name = $2', [site, name]);
  return rows[0]?.bmc_credentials_enc;
}

/** Hosts among `names` already held by a queued or running job. */
export async function busyHosts(db: Queryable, site: string, names: readonly string[]): Promise<Array<{ name: string; jobId: string }>> {
  const { rows } = await db.query<{ name: string; job_id: string }>(
    `SELECT h.name, h.job_id FROM hosts h JOIN jobs j ON j.id = h.job_id
      WHERE h.site = $1 AND h.name = ANY($2) AND j.status IN ('queued', 'running') FOR UPDATE OF h`,
    [site, names],
  );
  return rows.map((row) => ({ name: row.name, jobId: row.job_id }));
}

export async function assignJob(db: Queryable, site: string, names: readonly string[], jobId: string): Promise<void> {
  await db.query('UPDATE hosts SET job_id = $3, updated_at = now() WHERE site = $1 AND name = ANY($2)', [site, names, jobId]);
}

export async function setHostStatus(
  db: Queryable,
  site: string,
  name: string,
  status: { state: HostState; errorType?: HostErrorType | null; errorMessage?: string | null; nodeId?: string | null; poweredOn?: boolean | null },
): Promise<void> {
  await db.query(
    `UPDATE hosts SET state = $3, error_type = $4, error_message = $5, observed = NULL,
            node_id = COALESCE($6, node_id), powered_on = COALESCE($7, powered_on), updated_at = now()
      WHERE site = $1 AND name = $2`,
    [site, name, status.state, status.errorType ?? null, status.errorMessage ?? null, status.nodeId ?? null, status.poweredOn ?? null],
  );
}

/** Ironic's node id for the host (null once its node was removed). */
export async function setNodeId(db: Queryable, site: string, name: string, nodeId: string | null): Promise<void> {
  await db.query('UPDATE hosts SET node_id = $3, updated_at = now() WHERE site = $1 AND name = $2', [site, name, nodeId]);
}

/**
 * Records what the host's node looks like when it differs from the host's state (null: it agrees).
 * Only a new reason is written, so `seenAt` says since when; returns whether anything changed.
 */
export async function setObserved(db: Queryable, site: string, name: string, observed: HostObservedState | null): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE hosts SET observed = $3::jsonb
      WHERE site = $1 AND name = $2 AND (observed->>'reason') IS DISTINCT FROM ($3::jsonb->>'reason')`,
    [site, name, observed === null ? null : JSON.stringify(observed)],
  );
  return (rowCount ?? 0) > 0;
}

export interface SiteEvent {
  id: string;
  site: string;
  host: string | null;
  type: string;
  message: string;
  data: unknown;
  at: string;
}

export async function appendSiteEvent(db: Queryable, event: { site: string; host: string | null; type: string; message: string; data?: unknown }): Promise<void> {
  await db.query('INSERT INTO site_events (site, host, type, message, data) VALUES ($1, $2, $3, $4, $5)', [event.site, event.host, event.type, event.message, JSON.stringify(event.data ?? {})]);
}

/** The newest `limit` events of a site, oldest first. */
export async function listSiteEvents(db: Queryable, site: string, limit: number): Promise<SiteEvent[]> {
  const { rows } = await db.query<{ id: string; site: string; host: string | null; type: string; message: string; data: unknown; at: Date }>(
    'SELECT * FROM (SELECT id, site, host, type, message, data, at FROM site_events WHERE site = $1 ORDER BY id DESC LIMIT $2) newest ORDER BY id',
    [site, limit],
  );
  return rows.map((row) => ({ id: String(row.id), site: row.site, host: row.host, type: row.type, message: row.message, data: row.data, at: row.at.toISOString() }));
}

/** Sites with hosts that have (or had) an Ironic node: what the periodic reconciliation looks at. */
export async function sitesWithNodes(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ site: string }>("SELECT DISTINCT site FROM hosts WHERE node_id IS NOT NULL OR state <> 'enrolled' ORDER BY site");
  return rows.map((row) => row.site);
}

/** Hosts among these held by a queued or running job (a job's own reads are the truth then). */
export async function hostsInJobs(db: Queryable, site: string): Promise<Set<string>> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT h.name FROM hosts h JOIN jobs j ON j.id = h.job_id WHERE h.site = $1 AND j.status IN ('queued', 'running')`,
    [site],
  );
  return new Set(rows.map((row) => row.name));
}
