import { createHash, randomBytes } from "node:crypto";
import { cp, mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "../store/migrate.js";
import { migrations } from "../store/migrations/index.js";
import { openPgliteDb } from "../store/pglite-db.js";

const pgliteEntry = fileURLToPath(import.meta.resolve("@electric-sql/pglite"));
// The package's exports hide its package.json; it sits above the entry point's dist folder.
const pgliteVersion = JSON.parse(
  await readFile(
    join(pgliteEntry.slice(0, pgliteEntry.lastIndexOf("/dist/")), "package.json"),
    "utf8",
  ),
).version as string;

/** Names the schema a template holds: the migrations and the PGlite build that wrote it. */
function fingerprint(): string {
  return createHash("sha256")
    .update(JSON.stringify({ pgliteVersion, migrations }))
    .digest("hex")
    .slice(0, 16);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

let made: Promise<string> | undefined;

/**
 * A PGlite data directory with every migration applied, made once per schema under `cacheDir`
 * and reused by every later test file and run: initdb and migrations cost seconds per server,
 * a copy of the result a fraction of that. Several processes may race to make it; each builds in
 * a directory of its own and the first rename wins, so a reader never sees half a template.
 */
export function migratedTemplate(cacheDir: string): Promise<string> {
  made ??= (async () => {
    const template = join(cacheDir, `pglite-template-${fingerprint()}`);
    if (await exists(template)) return template;
    await mkdir(cacheDir, { recursive: true });
    const building = `${template}.${randomBytes(4).toString("hex")}.building`;
    const db = await openPgliteDb(building);
    try {
      await migrate(db);
    } finally {
      await db.close();
    }
    try {
      await rename(building, template);
    } catch (error) {
      // Another process finished first: its template is the same schema.
      await rm(building, { recursive: true, force: true });
      if (!(await exists(template))) throw error;
    }
    return template;
  })();
  return made;
}

/** Copies the migrated template into `<dataDir>/pglite`, where the server opens its database. */
export async function seedFromTemplate(dataDir: string, cacheDir: string): Promise<void> {
  await cp(await migratedTemplate(cacheDir), join(dataDir, "pglite"), { recursive: true });
}
