-- Up Migration

-- One record for every kind of long work: deploy, undeploy, provisioning, bootstrap, …
CREATE TABLE jobs (
  id            uuid PRIMARY KEY,
  kind          text NOT NULL,
  subject_type  text NOT NULL,
  subject_id    text NOT NULL,
  owner         text NOT NULL,
  status        text NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'partially_failed', 'cancelled')),
  input         jsonb NOT NULL DEFAULT '{}'::jsonb,
  result        jsonb,
  error         jsonb,
  parent_id     uuid REFERENCES jobs (id) ON DELETE SET NULL,
  cancel_requested boolean NOT NULL DEFAULT false,
  attempts      integer NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_subject_idx ON jobs (subject_type, subject_id, created_at DESC);
CREATE INDEX jobs_owner_idx ON jobs (owner, created_at DESC);
CREATE INDEX jobs_active_idx ON jobs (status) WHERE status IN ('queued', 'running');

CREATE TABLE job_steps (
  job_id       uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  position     integer NOT NULL,
  name         text NOT NULL,
  status       text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled')),
  detail       text,
  started_at   timestamptz,
  finished_at  timestamptz,
  PRIMARY KEY (job_id, name)
);

-- The event log of a job; `id` is the SSE event id (Last-Event-ID resumes after it).
CREATE TABLE job_events (
  id       bigserial PRIMARY KEY,
  job_id   uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  at       timestamptz NOT NULL DEFAULT now(),
  type     text NOT NULL,
  message  text NOT NULL,
  data     jsonb
);
CREATE INDEX job_events_job_idx ON job_events (job_id, id);

-- A solution deployed (or being deployed) into one namespace of one cluster.
CREATE TABLE deployments (
  id              uuid PRIMARY KEY,
  owner           text NOT NULL,
  solution_id     text NOT NULL,
  revision_id     text NOT NULL,
  solution_name   text,
  solution_kind   text,
  namespace       text NOT NULL,
  cluster_server  text,
  -- The kube config, AES-256-GCM encrypted (adapters/crypto); never returned, never logged.
  kubeconfig_enc  text,
  status          text NOT NULL DEFAULT 'queued',
  services        jsonb NOT NULL DEFAULT '[]'::jsonb,
  error           jsonb,
  job_id          uuid REFERENCES jobs (id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deployments_owner_idx ON deployments (owner, created_at DESC, id);
CREATE INDEX deployments_target_idx ON deployments (cluster_server, namespace);
