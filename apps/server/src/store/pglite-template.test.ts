import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "./db.js";
import { migrate } from "./migrate.js";
import { openPgliteDb } from "./pglite-db.js";

/** Everything migrations define, as text PostgreSQL itself prints, in a stable order. */
async function schemaOf(db: Db): Promise<Record<string, unknown[]>> {
  return {
    columns: await db.query(
      `SELECT table_name, column_name, data_type, is_nullable, column_default
         FROM information_schema.columns WHERE table_schema = 'public'
         ORDER BY table_name, ordinal_position`,
    ),
    indexes: await db.query(
      "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname",
    ),
    constraints: await db.query(
      `SELECT conrelid::regclass::text AS on_table, conname, pg_get_constraintdef(oid) AS def
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace
         ORDER BY on_table, conname`,
    ),
    functions: await db.query(
      `SELECT proname, pg_get_functiondef(oid) AS def FROM pg_proc
         WHERE pronamespace = 'public'::regnamespace ORDER BY proname`,
    ),
    triggers: await db.query(
      `SELECT tgname, pg_get_triggerdef(oid) AS def FROM pg_trigger
         WHERE NOT tgisinternal ORDER BY tgname`,
    ),
    migrations: await db.query("SELECT version, name FROM schema_migrations ORDER BY version"),
  };
}

describe("the migrated PGlite template", () => {
  let migrated: Db;
  let dataDir: string;

  beforeAll(async () => {
    migrated = await openPgliteDb("memory://", { template: false });
    await migrate(migrated);
    dataDir = await mkdtemp(join(tmpdir(), "grouppe-template-"));
  });

  afterAll(async () => {
    await migrated?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("gives a new database on disk the schema that running every migration gives", async () => {
    const expected = await schemaOf(migrated);
    expect(expected.columns.length).toBeGreaterThan(10);
    expect(expected.migrations.length).toBeGreaterThan(0);

    const fromTemplate = await openPgliteDb(join(dataDir, "pglite"));
    try {
      expect(await schemaOf(fromTemplate)).toEqual(expected);
      await fromTemplate.query("INSERT INTO signing_keys (id, private_pem) VALUES ('k', 'pem')");
    } finally {
      await fromTemplate.close();
    }
    // Opened again, it is the same database, not a fresh copy.
    const reopened = await openPgliteDb(join(dataDir, "pglite"));
    try {
      expect(await reopened.query("SELECT id FROM signing_keys")).toEqual([{ id: "k" }]);
    } finally {
      await reopened.close();
    }
    expect(await readdir(join(dataDir, "pglite"))).toContain("PG_VERSION");
  });
});
