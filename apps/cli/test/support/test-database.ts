import { randomBytes } from "node:crypto";
import pg from "pg";

/** The PostgreSQL the tests use unless GROUPPE_TEST_DATABASE_URL names another. */
const defaultUrl = "postgres://postgres@127.0.0.1:5432/test";

/** A database for the server processes of one test file. */
export interface TestDatabase {
  /** Environment for the server: DATABASE_URL, or nothing for the embedded PGlite. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A throwaway PostgreSQL database (grouppe_cli_<random>): server processes start in a second
 * on it, and several processes share it as in production. Without a reachable PostgreSQL the
 * servers fall back to PGlite (slower to start), except under CI, where that is an error.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = process.env.GROUPPE_TEST_DATABASE_URL?.trim() || defaultUrl;
  const name = `grouppe_cli_${randomBytes(6).toString("hex")}`;
  try {
    await admin(base, `CREATE DATABASE ${name}`);
  } catch (error) {
    if (process.env.CI) throw error;
    return { env: {}, drop: async () => undefined };
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    drop: () => admin(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
