-- Up Migration

-- The rollout job a package version started, so completing its upload again (the last PATCH
-- completed it already) still answers with that job.
ALTER TABLE packages ADD COLUMN rollout_job_id uuid REFERENCES jobs (id) ON DELETE SET NULL;
