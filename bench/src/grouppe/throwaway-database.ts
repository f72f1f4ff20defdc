import { randomBytes } from "node:crypto";
import pg from "pg";

/** A database made for one bench run, dropped again by `drop`. */
export interface ThrowawayDatabase {
  url: string;
  drop(): Promise<void>;
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates `grouppe_bench_<random>` on the server at `adminUrl`, or resolves with the reason
 * when PostgreSQL cannot be reached.
 */
export async function createThrowawayDatabase(
  adminUrl: string,
): Promise<{ database: ThrowawayDatabase } | { unavailable: string }> {
  const name = `grouppe_bench_${randomBytes(6).toString("hex")}`;
  try {
    await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  } catch (error) {
    return { unavailable: `PostgreSQL at ${adminUrl} is not usable: ${(error as Error).message}` };
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    database: {
      url: url.toString(),
      drop: () =>
        withClient(adminUrl, (client) =>
          client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
        ).then(() => {}),
    },
  };
}
