-- Up Migration

-- A site: a set of bare-metal servers provisioned together (an edge location, a rack room).
CREATE TABLE sites (
  name        text PRIMARY KEY,
  description text NOT NULL DEFAULT '',
  owner       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A server of a site. `spec` is the validated host spec (no credentials); the BMC credentials are
-- AES-256-GCM encrypted, bound to the row; the state columns mirror Metal3's host status.
CREATE TABLE hosts (
  site           text NOT NULL REFERENCES sites (name) ON DELETE RESTRICT,
  name           text NOT NULL,
  spec           jsonb NOT NULL,
  bmc_credentials_enc text NOT NULL,
  location       jsonb NOT NULL DEFAULT '{}'::jsonb,
  config_drive   jsonb NOT NULL DEFAULT '{}'::jsonb,
  labels         jsonb NOT NULL DEFAULT '{}'::jsonb,
  state          text NOT NULL DEFAULT 'enrolled',
  error_type     text,
  error_message  text,
  node_id        text,
  powered_on     boolean,
  address        text,
  job_id         uuid REFERENCES jobs (id) ON DELETE SET NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site, name)
);
CREATE UNIQUE INDEX hosts_boot_mac_idx ON hosts ((spec->>'bootMacAddress'));
CREATE UNIQUE INDEX hosts_bmc_address_idx ON hosts ((spec->'bmc'->>'address'));
