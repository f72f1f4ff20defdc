import type { Db } from "./db.js";
import { PgliteDb } from "./pglite-adapter.js";
import { copyPgliteTemplate, loadPgliteTemplate } from "./pglite-template.js";
import { holdsDatabase, inMemory, startPglite } from "./start-pglite.js";

export interface OpenPgliteDbOptions {
  /**
   * How a database that does not exist yet starts: as a copy of the migrated template (the
   * default, see {@link ensurePgliteTemplate}), or, with `false`, from initdb with no schema.
   */
  template?: boolean;
}

/**
 * Opens an embedded PGlite database. `dataDir` is a directory (created when missing) or
 * `memory://` for a database that lives only as long as the process. A new database starts as
 * a copy of the migrated template, so {@link migrate} then has nothing left to do.
 */
export async function openPgliteDb(
  dataDir: string,
  options: OpenPgliteDbOptions = {},
): Promise<Db> {
  if (options.template === false || holdsDatabase(dataDir)) {
    return new PgliteDb(await startPglite(dataDir));
  }
  if (dataDir.startsWith(inMemory)) {
    return new PgliteDb(await startPglite(dataDir, await loadPgliteTemplate()));
  }
  await copyPgliteTemplate(dataDir);
  return new PgliteDb(await startPglite(dataDir));
}
