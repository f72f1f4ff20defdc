import { type PGlite, parse, protocol } from "@electric-sql/pglite";

const { serialize } = protocol;

/** PostgreSQL's "cached plan must not change result type", after a table a statement reads changed shape. */
const featureNotSupported = "0A000";

interface Prepared {
  name: string;
  paramTypes: number[];
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Runs parameterized queries on PGlite as named prepared statements. PGlite's own `query`
 * parses, plans and describes every call in six trips through the engine; here each distinct
 * SQL text is parsed once and every later call is one trip (bind, describe, execute, sync),
 * about three times the throughput on reads such as GetEvent.
 */
export class PgliteStatements {
  readonly #pglite: PGlite;
  readonly #prepared = new Map<string, Prepared>();
  readonly #capacity: number;
  #named = 0;

  /** `capacity` bounds the distinct statements kept; beyond it queries take PGlite's usual path. */
  constructor(pglite: PGlite, capacity = 500) {
    this.#pglite = pglite;
    this.#capacity = capacity;
  }

  /** Whether `sql` with these parameters goes through a prepared statement. */
  handles(sql: string, params: readonly unknown[]): boolean {
    return params.length > 0 && (this.#prepared.has(sql) || this.#prepared.size < this.#capacity);
  }

  /**
   * Runs one statement. `inTransaction` says the caller runs inside `PGlite.transaction`, which
   * already holds the transaction lock; outside one, it is taken here as `PGlite.query` does.
   */
  run<Row>(sql: string, params: readonly unknown[], inTransaction: boolean): Promise<Row[]> {
    const pglite = this.#pglite;
    const work = () =>
      pglite._runExclusiveQuery(() => this.#execute<Row>(sql, params, inTransaction));
    return inTransaction ? work() : pglite._runExclusiveTransaction(work);
  }

  async #execute<Row>(
    sql: string,
    params: readonly unknown[],
    inTransaction: boolean,
  ): Promise<Row[]> {
    const pglite = this.#pglite;
    const prepared = this.#prepared.get(sql) ?? (await this.#prepare(sql));
    const values = params.map((value, index) => {
      if (value === null || value === undefined) return null;
      const type = prepared.paramTypes[index];
      const serializer = type === undefined ? undefined : pglite.serializers[type];
      return serializer ? serializer(value) : String(value);
    });
    try {
      const messages = await pglite.execProtocolStream(
        concat([
          serialize.bind({ statement: prepared.name, values }),
          serialize.describe({ type: "P" }),
          serialize.execute({}),
          serialize.sync(),
        ]),
        { syncToFs: false },
      );
      const [result] = parse.parseResults(messages, pglite.parsers);
      return (result?.rows ?? []) as Row[];
    } catch (error) {
      if ((error as { code?: unknown }).code === featureNotSupported) this.#prepared.delete(sql);
      throw error;
    } finally {
      if (!inTransaction) await pglite.syncToFs();
    }
  }

  async #prepare(sql: string): Promise<Prepared> {
    const name = `grouppe_s${++this.#named}`;
    const messages = await this.#pglite.execProtocolStream(
      concat([
        serialize.parse({ name, text: sql }),
        serialize.describe({ type: "S", name }),
        serialize.sync(),
      ]),
      { syncToFs: false },
    );
    const prepared = { name, paramTypes: parse.parseDescribeStatementResults(messages) };
    this.#prepared.set(sql, prepared);
    return prepared;
  }
}
