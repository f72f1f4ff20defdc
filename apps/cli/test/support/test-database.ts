import { createTestDatabase as createPostgresDatabase, postgresAvailable } from "@grouppe/testkit";

/** A database for the server processes of one test file. */
export interface TestDatabase {
  /** Environment for the server: DATABASE_URL, or nothing for the embedded PGlite. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

/**
 * A throwaway PostgreSQL database: several server processes share it, as instances do in
 * production. Without a reachable PostgreSQL each server keeps its own PGlite instead (outside
 * CI, where that is an error).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const available = await postgresAvailable();
  if ("skip" in available) return { env: {}, drop: async () => undefined };
  const database = await createPostgresDatabase();
  return { env: { DATABASE_URL: database.url }, drop: () => database.drop() };
}
