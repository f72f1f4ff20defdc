import { randomBytes } from "node:crypto";
import pg from "pg";

/** The database tests use unless GROUPPE_TEST_DATABASE_URL names another. */
const defaultUrl = "postgres://postgres@127.0.0.1:5432/test";

let availability: Promise<{ url: string } | { skip: string }> | undefined;

function adminUrl(): string {
  return process.env.GROUPPE_TEST_DATABASE_URL?.trim() || defaultUrl;
}

/** The URL without its password, for messages. */
function shown(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(an unparsable URL)";
  }
}

async function probe(url: string): Promise<{ url: string } | { skip: string }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return { url };
  } catch (error) {
    const why = error instanceof Error ? error.message || error.name : String(error);
    const message = `PostgreSQL is not reachable at ${shown(url)} (${why})`;
    if (process.env.CI) throw new Error(`${message}; CI is set, so tests that need it fail`);
    return { skip: `${message}; set GROUPPE_TEST_DATABASE_URL to run these tests` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Whether the test PostgreSQL (GROUPPE_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test)
 * answers: its URL, or a one-line reason to skip. Throws instead when `CI` is set, so a CI run
 * never passes by skipping. Probed once per test file.
 */
export function postgresAvailable(): Promise<{ url: string } | { skip: string }> {
  availability ??= probe(adminUrl());
  return availability;
}

/**
 * Creates an empty throwaway database (grouppe_t_<random>) next to the test database, so test
 * files never see each other's rows. `drop()` removes it, closing connections left open.
 */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const available = await postgresAvailable();
  if ("skip" in available) throw new Error(available.skip);
  const name = `grouppe_t_${randomBytes(6).toString("hex")}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({
      connectionString: available.url,
      connectionTimeoutMillis: 10_000,
    });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(available.url);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    url: url.toString(),
    drop() {
      dropped ??= admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      return dropped;
    },
  };
}
