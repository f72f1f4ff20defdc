import { createTestDatabase } from "@grouppe/testkit";
import type { Db } from "../../src/store/db.js";
import { migrate } from "../../src/store/migrate.js";
import { openPostgresDb } from "../../src/store/postgres-db.js";

/** A throwaway PostgreSQL database with grouppe's schema, and how to get rid of it. */
export interface MigratedTestDatabase {
  url: string;
  db: Db;
  /** Closes the pool, then drops the database. */
  drop(): Promise<void>;
}

/** Creates a throwaway database (see `createTestDatabase`), opens it and migrates it. */
export async function createMigratedTestDatabase(): Promise<MigratedTestDatabase> {
  const database = await createTestDatabase();
  const db = await openPostgresDb({ url: database.url });
  await migrate(db);
  return {
    url: database.url,
    db,
    async drop() {
      await db.close();
      await database.drop();
    },
  };
}
