import pg from "pg";
import { unavailableOr } from "./database-unavailable.js";
import type { Db, Queryable, Unlisten } from "./db.js";
import { PostgresListener } from "./postgres-listener.js";

/** How to reach PostgreSQL and how hard to lean on it. */
export interface PostgresDbOptions {
  /** A postgres:// or postgresql:// URL. */
  url: string;
  /** Pooled connections for queries and transactions; LISTEN uses one more. Default 10. */
  poolSize?: number;
  /** Statements running longer are cancelled by the server. Default 30 s. */
  statementTimeoutMs?: number;
  /** Backoff of the LISTEN connection's reconnects. Default 250 ms doubling up to 30 s. */
  reconnectDelayMs?: { initial: number; max: number };
  /** How the LISTEN connection is probed for silent death (see PostgresListener). */
  listenerProbe?: { intervalMs: number; timeoutMs: number };
  /** Told about connection trouble the caller cannot see otherwise (dropped idle or LISTEN connections). */
  onError?: (error: unknown, what: string) => void;
}

const int8 = 20;

/**
 * Opens a connection pool on PostgreSQL and checks that the database answers, so a wrong URL
 * fails at start-up rather than on the first request.
 */
export async function openPostgresDb(options: PostgresDbOptions): Promise<Db> {
  const onError = options.onError ?? (() => undefined);
  // PGlite reads bigint as a number; reading it the same way here keeps one SQL dialect with
  // one result shape. Counts and versions stay far below 2^53.
  const types = new pg.TypeOverrides();
  types.setTypeParser(int8, Number);
  const connection: pg.ClientConfig = {
    connectionString: options.url,
    application_name: "grouppe",
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    idle_in_transaction_session_timeout: 60_000,
    connectionTimeoutMillis: 10_000,
    // TCP keepalive from 10 s of silence on (the default waits the OS's two hours), as a
    // second line behind the LISTEN connection's probe.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    types,
  };
  const pool = new pg.Pool({
    ...connection,
    max: options.poolSize ?? 10,
    idleTimeoutMillis: 30_000,
  });
  // An idle pooled connection that dies is dropped by the pool; without a handler Node would
  // treat the error as fatal.
  pool.on("error", (error) => onError(error, "an idle pooled connection failed"));
  const listener = new PostgresListener({
    connection: {
      ...connection,
      application_name: "grouppe-listener",
      statement_timeout: undefined,
    },
    reconnectDelayMs: options.reconnectDelayMs ?? { initial: 250, max: 30_000 },
    probe: options.listenerProbe,
    onError,
  });
  const db = new PostgresDb(pool, listener);
  try {
    await db.ping();
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}

function queryableOf(target: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<Row extends object>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
      try {
        const result = await target.query(sql, params as unknown[]);
        return result.rows as Row[];
      } catch (error) {
        throw unavailableOr(error);
      }
    },
  };
}

class PostgresDb implements Db {
  readonly kind = "postgres";
  readonly #pool: pg.Pool;
  readonly #listener: PostgresListener;
  readonly #outside: Queryable;
  #closing: Promise<void> | undefined;

  constructor(pool: pg.Pool, listener: PostgresListener) {
    this.#pool = pool;
    this.#listener = listener;
    this.#outside = queryableOf(pool);
  }

  query<Row extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<Row[]> {
    return this.#outside.query<Row>(sql, params);
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect().catch((error: unknown) => {
      throw unavailableOr(error);
    });
    let broken: Error | undefined;
    // A connection that dies while checked out also emits 'error' on its client (the query in
    // flight fails as well); with no listener that is an uncaught exception, and the process
    // would end. Noted here, the connection is dropped instead of going back into the pool.
    const onError = (error: Error) => {
      broken = error;
    };
    client.on("error", onError);
    try {
      const tx = queryableOf(client);
      await tx.query("BEGIN");
      const result = await work(tx);
      await tx.query("COMMIT");
      return result;
    } catch (error) {
      try {
        await client.query("ROLLBACK");
      } catch (rollbackError) {
        // A connection that cannot even roll back must not go back into the pool.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw error;
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  listen(
    channel: string,
    onMessage: (payload: string) => void,
    onReconnect?: () => void,
  ): Promise<Unlisten> {
    return this.#listener.listen(channel, onMessage, onReconnect);
  }

  async ping(): Promise<void> {
    await this.#pool.query("SELECT 1");
  }

  close(): Promise<void> {
    // pool.end() waits for checked-out connections to come back, so in-flight work finishes.
    this.#closing ??= Promise.all([this.#listener.close(), this.#pool.end()]).then(() => undefined);
    return this.#closing;
  }
}
