-- Up Migration

-- A Kubernetes cluster Slipway may deploy to: registered with a user's kube config, or
-- bootstrapped by Slipway on a site's provisioned hosts. The kube config is AES-256-GCM encrypted
-- (adapters/crypto), bound to the row; never returned, never logged.
CREATE TABLE clusters (
  id             uuid PRIMARY KEY,
  name           text NOT NULL,
  owner          text NOT NULL,
  server         text,
  kubeconfig_enc text,
  origin         text NOT NULL CHECK (origin IN ('registered', 'bootstrapped')),
  site           text REFERENCES sites (name) ON DELETE SET NULL,
  engine         text CHECK (engine IN ('kud-job', 'cluster-api')),
  -- The bootstrap request and plan (split, add-ons), and the nodes (name, address, role) the
  -- cluster was built on or grown with: what a scale-out re-renders the inventory from.
  request        jsonb,
  plan           jsonb,
  nodes          jsonb NOT NULL DEFAULT '[]'::jsonb,
  status         text NOT NULL CHECK (status IN ('bootstrapping', 'ready', 'failed')),
  error          jsonb,
  job_id         uuid REFERENCES jobs (id) ON DELETE SET NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (owner, name)
);
CREATE INDEX clusters_site_idx ON clusters (site, name);

-- Package versions uploaded for a cluster (the file is content-addressed under PACKAGES_DIR).
-- The latest uploaded version of each name is the one the cluster's nodes should have.
CREATE TABLE packages (
  cluster_id  uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  name        text NOT NULL,
  version     text NOT NULL,
  sha256      text NOT NULL,
  size        bigint NOT NULL,
  path        text NOT NULL,
  owner       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (cluster_id, name, version)
);
CREATE INDEX packages_current_idx ON packages (cluster_id, name, created_at DESC);

-- What each node of a cluster has installed, written as each node's install succeeds.
CREATE TABLE node_packages (
  cluster_id  uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  node        text NOT NULL,
  name        text NOT NULL,
  version     text NOT NULL,
  job_id      uuid REFERENCES jobs (id) ON DELETE SET NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cluster_id, node, name)
);
