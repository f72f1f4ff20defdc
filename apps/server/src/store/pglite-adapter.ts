import type { PGlite, Transaction } from "@electric-sql/pglite";
import { checkChannelName } from "./channel-name.js";
import type { Db, Queryable, Unlisten } from "./db.js";
import { PgliteStatements } from "./pglite-statements.js";

function queryableOf(
  target: PGlite | Transaction,
  statements: PgliteStatements,
  inTransaction: boolean,
): Queryable {
  return {
    async query<Row extends object>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
      if (statements.handles(sql, params)) return statements.run<Row>(sql, params, inTransaction);
      const result = await target.query<Row>(sql, params as unknown[]);
      return result.rows;
    },
  };
}

/**
 * PGlite is one connection: it runs queries one at a time and makes transactions wait for each
 * other, so row locks never contend, yet the same SQL stays correct on PostgreSQL.
 */
export class PgliteDb implements Db {
  readonly kind = "pglite";
  readonly #pglite: PGlite;
  readonly #statements: PgliteStatements;
  readonly #outside: Queryable;

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
    this.#statements = new PgliteStatements(pglite);
    this.#outside = queryableOf(pglite, this.#statements, false);
  }

  query<Row extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<Row[]> {
    return this.#outside.query<Row>(sql, params);
  }

  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#pglite.transaction((tx) => work(queryableOf(tx, this.#statements, true)));
  }

  async listen(channel: string, onMessage: (payload: string) => void): Promise<Unlisten> {
    checkChannelName(channel);
    // A private callback per subscription, so unlistening one leaves the others subscribed.
    const deliver = (payload: string) => onMessage(payload);
    const unlisten = await this.#pglite.listen(channel, deliver);
    return () => unlisten();
  }

  async ping(): Promise<void> {
    await this.#pglite.query("SELECT 1");
  }

  async close(): Promise<void> {
    if (!this.#pglite.closed) await this.#pglite.close();
  }
}
