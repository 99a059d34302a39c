import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runner } from 'node-pg-migrate';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));

/** Our own lock id, held for the whole run so concurrent replicas wait instead of failing. */
const MIGRATION_LOCK = 0x51_1b_3a_7e;

/**
 * Apply the forward-only SQL migrations in `migrations/`. Safe when several replicas start at
 * once: each takes a blocking advisory lock first (node-pg-migrate's own lock is a try-lock that
 * would make the second replica fail), so the second waits and then finds nothing to do.
 */
export async function migrate(url: string, log: (message: string) => void = () => undefined): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: 'up',
      migrationsTable: 'schema_migrations',
      checkOrder: true,
      singleTransaction: true,
      logger: { info: log, warn: log, error: log, debug: () => undefined },
    });
    return applied.map((migration) => migration.name);
  } finally {
    await client.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    await client.end();
  }
}
