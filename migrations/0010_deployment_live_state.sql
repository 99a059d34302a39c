-- Up Migration

-- A live deployment's health and sync as its watcher last saw them (null until it was checked).
ALTER TABLE deployments ADD COLUMN health jsonb;
ALTER TABLE deployments ADD COLUMN sync jsonb;
