-- Up Migration

-- Provisioning slots per Ironic endpoint: at most IRONIC_CONCURRENCY hosts are worked on at once
-- across every job and replica. A slot is leased to a job and renewed while it is held; a crashed
-- holder's lease runs out and the slot is free again.
CREATE TABLE ironic_slots (
  pool         text NOT NULL,
  slot         integer NOT NULL,
  holder       text,
  lease_until  timestamptz,
  PRIMARY KEY (pool, slot)
);
