import type { Db } from "./db.js";
import { migrations as allMigrations, type Migration } from "./migrations/index.js";

/** An arbitrary constant that names the migration lock among other advisory locks. */
const migrationLockKey = 0x67726f7570;

/**
 * Brings the schema up to date: applies every migration not yet recorded in
 * `schema_migrations`, in order, each in its own transaction. Processes starting at once take
 * turns on an advisory lock, so each migration runs exactly once. `migrations` defaults to the
 * server's own list.
 */
export async function migrate(
  db: Db,
  migrations: readonly Migration[] = allMigrations,
): Promise<void> {
  for (const migration of migrations) {
    await db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1)", [migrationLockKey]);
      await tx.query(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
          version integer PRIMARY KEY,
          name text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`,
      );
      const [latest] = await tx.query<{ version: number | null }>(
        "SELECT max(version) AS version FROM schema_migrations",
      );
      const known = migrations.at(-1)?.version ?? 0;
      if (latest?.version != null && latest.version > known) {
        throw new Error(
          `the database schema is at version ${latest.version}, newer than this server knows (${known}); upgrade the server`,
        );
      }
      const applied = await tx.query("SELECT 1 FROM schema_migrations WHERE version = $1", [
        migration.version,
      ]);
      if (applied.length > 0) return;
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
        migration.version,
        migration.name,
      ]);
    });
  }
}
