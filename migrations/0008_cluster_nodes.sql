-- Up Migration

-- The Kubernetes Nodes of a cluster that a package rollout has planned for, so a Node that joins
-- later (not in this table) is noticed and given the cluster's current packages. Existing
-- clusters start with the nodes that have packages recorded.
CREATE TABLE cluster_nodes (
  cluster_id  uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  node        text NOT NULL,
  first_seen  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cluster_id, node)
);

INSERT INTO cluster_nodes (cluster_id, node)
SELECT DISTINCT cluster_id, node FROM node_packages
ON CONFLICT DO NOTHING;
