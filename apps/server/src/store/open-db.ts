import { join } from "node:path";
import type { Db } from "./db.js";
import { openPgliteDb } from "./pglite-db.js";
import { choosePgliteOptimize, type PgliteOptimize } from "./pglite-optimize.js";

/** Where the database is: PostgreSQL at `databaseUrl` when set, else PGlite under `dataDir`. */
export interface OpenDbOptions {
  databaseUrl?: string;
  /** The server's data directory; PGlite keeps its files in `<dataDir>/pglite`, or in memory for `memory://`. */
  dataDir: string;
  /** With PGlite: what its WebAssembly is compiled for (default `memory`); process-wide. */
  pgliteOptimize?: PgliteOptimize;
  /** Told about connection trouble that has no caller to throw to (PostgreSQL only). */
  onError?: (error: unknown, what: string) => void;
}

/** Opens the configured database; migrations are a separate step ({@link migrate}). */
export async function openDb(options: OpenDbOptions): Promise<Db> {
  if (options.databaseUrl) {
    // The PostgreSQL driver is loaded only for PostgreSQL: a PGlite server never needs it.
    const { openPostgresDb } = await import("./postgres-db.js");
    return openPostgresDb({ url: options.databaseUrl, onError: options.onError });
  }
  const { dataDir } = options;
  if (options.pgliteOptimize) choosePgliteOptimize(options.pgliteOptimize);
  // The data directory also holds other files (the signing key), which do not belong in PGDATA.
  return openPgliteDb(dataDir.startsWith("memory://") ? dataDir : join(dataDir, "pglite"));
}
