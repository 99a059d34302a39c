-- Up Migration

-- Every host owns its Ironic node, and only its own. `id` is marked on the node
-- (extra.slipway_host); `node_name` is the node's name, unique across every site (site and host
-- names are DNS labels, so "<site>.<host>" cannot collide); `node_id` (already there) records the
-- node's UUID once created. Existing hosts get an id and a node name here; their nodes are marked
-- (and renamed) the next time a job finds them by the recorded node_id.
ALTER TABLE hosts ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX hosts_id_idx ON hosts (id);
ALTER TABLE hosts ADD COLUMN node_name text GENERATED ALWAYS AS (site || '.' || name) STORED;
CREATE UNIQUE INDEX hosts_node_name_idx ON hosts (node_name);

-- What Slipway last saw of the node when it differed from the host's state (null: they agree).
ALTER TABLE hosts ADD COLUMN observed jsonb;

-- What happened to a site outside its jobs: a host's node found to differ from what Slipway
-- recorded (and agreeing again), seen on a read or by the periodic reconciliation.
CREATE TABLE site_events (
  id       bigserial PRIMARY KEY,
  site     text NOT NULL REFERENCES sites (name) ON DELETE CASCADE,
  host     text,
  type     text NOT NULL,
  message  text NOT NULL,
  data     jsonb NOT NULL DEFAULT '{}'::jsonb,
  at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX site_events_site_idx ON site_events (site, id);
