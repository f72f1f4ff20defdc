/**
 * The one database interface the server talks to. Two implementations: PGlite (embedded, the
 * default) and PostgreSQL (`DATABASE_URL`). SQL is written once, in the PostgreSQL dialect,
 * and runs on both.
 */
export interface Queryable {
  /** Runs one statement with `$1`-style parameters and returns its rows. */
  query<Row extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<Row[]>;
}

/** Stops a listener; resolves once no more messages will arrive. */
export type Unlisten = () => Promise<void>;

export interface Db extends Queryable {
  /** Which engine is behind this interface. */
  readonly kind: "pglite" | "postgres";
  /**
   * Runs `work` in one transaction (READ COMMITTED): committed when it resolves, rolled back
   * when it throws. Everything a multi-row change writes goes through here.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Subscribes to NOTIFY messages on `channel`. On PostgreSQL this holds one dedicated
   * connection; when it drops, it reconnects with backoff and calls `onReconnect` once it
   * listens again, because messages sent in between are lost.
   */
  listen(
    channel: string,
    onMessage: (payload: string) => void,
    onReconnect?: () => void,
  ): Promise<Unlisten>;
  /** Resolves when the database answers a trivial query; for readiness checks. */
  ping(): Promise<void>;
  /** Closes every connection. In-flight queries finish first. */
  close(): Promise<void>;
}
