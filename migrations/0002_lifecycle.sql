-- Up Migration

-- Leases: a running job belongs to the worker whose heartbeat is fresh; a stale one is taken over.
ALTER TABLE jobs ADD COLUMN worker_id text;
ALTER TABLE jobs ADD COLUMN heartbeat_at timestamptz;
CREATE INDEX jobs_running_heartbeat_idx ON jobs (heartbeat_at) WHERE status = 'running';

-- Deployment lifecycle: a deployment may be deleted; it remembers what it applied and how it was asked.
ALTER TABLE deployments ADD CONSTRAINT deployments_status_check
  CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'deleting', 'deleted'));
-- The cluster and namespace a deployment targets, as one comparable value.
ALTER TABLE deployments ADD COLUMN target_key text;
UPDATE deployments SET target_key = COALESCE(cluster_server, '') || ' ' || namespace;
ALTER TABLE deployments ADD COLUMN callback_url text;
ALTER TABLE deployments ADD COLUMN cleanup_on_failure boolean NOT NULL DEFAULT false;
ALTER TABLE deployments ADD COLUMN namespace_created boolean NOT NULL DEFAULT false;
ALTER TABLE deployments ADD COLUMN applied jsonb NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE deployments ADD COLUMN rollback_of uuid REFERENCES deployments (id) ON DELETE SET NULL;
CREATE INDEX deployments_target_key_idx ON deployments (target_key, created_at DESC);
CREATE INDEX deployments_status_idx ON deployments (status);

-- One operation at a time per cluster and namespace: at most one deployment of a target is busy.
CREATE UNIQUE INDEX deployments_one_busy_per_target ON deployments (target_key)
  WHERE status IN ('queued', 'running', 'deleting');

-- Idempotency-Key: a retried POST replays the first answer instead of acting twice.
CREATE TABLE idempotency_keys (
  owner          text NOT NULL,
  key            text NOT NULL,
  route          text NOT NULL,
  request_hash   text NOT NULL,
  status_code    integer,
  location       text,
  response       jsonb,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Who did what, where, with which result.
CREATE TABLE audit_log (
  id             bigserial PRIMARY KEY,
  at             timestamptz NOT NULL DEFAULT now(),
  actor          text NOT NULL,
  action         text NOT NULL,
  subject_type   text NOT NULL,
  subject_id     text NOT NULL,
  cluster_server text,
  namespace      text,
  result         text NOT NULL,
  detail         jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
