-- Up Migration

-- What the deploy's preflight found (checks and plan), kept with the deployment.
ALTER TABLE deployments ADD COLUMN preflight jsonb;
