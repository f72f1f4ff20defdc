import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { copyFile, cp, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "./migrate.js";
import { migrations } from "./migrations/index.js";
import { PgliteDb } from "./pglite-adapter.js";
import { startPglite } from "./start-pglite.js";

/**
 * A new PGlite database costs an initdb (seconds of CPU and, with its second WebAssembly
 * instance, hundreds of MB at peak) and then every migration. Both always produce the same
 * files, so they run once, at build time, into `apps/server/dist/pglite-template-<fingerprint>/`,
 * and a new database starts as a copy of that directory. The same files as a gzipped tarball
 * (`<that>.tar.gz`) start databases that live in memory.
 */

const prefix = "pglite-template-";
const tarSuffix = ".tar.gz";

/** `apps/server/dist/`, the same from `src/store/` (tests, tsx) and `dist/store/` (built). */
const distDir = fileURLToPath(new URL("../../dist/", import.meta.url));

function pgliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  let dir = dirname(entry);
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string })
    .version;
}

/**
 * Names what the template is made of: the migrations and the PGlite release (whose on-disk
 * format it is). A template whose fingerprint differs is never used.
 */
export function pgliteTemplateFingerprint(): string {
  return createHash("sha256")
    .update(JSON.stringify({ pglite: pgliteVersion(), migrations }))
    .digest("hex")
    .slice(0, 16);
}

/**
 * Makes the template in `dir` (which must not exist): initdb, every migration and a checkpoint,
 * a tarball of that beside it, then a clean shutdown. The directory appears last, by a rename,
 * so whoever sees it also finds the tarball and never sees half a database.
 */
async function buildTemplate(dir: string): Promise<void> {
  const partial = `${dir}.${process.pid}.partial`;
  await rm(partial, { recursive: true, force: true });
  const pglite = await startPglite(partial);
  try {
    await migrate(new PgliteDb(pglite));
    await pglite.query("CHECKPOINT");
    const tarball = await pglite.dumpDataDir("gzip");
    await writeFile(`${partial}${tarSuffix}`, new Uint8Array(await tarball.arrayBuffer()));
  } finally {
    await pglite.close();
  }
  await rename(`${partial}${tarSuffix}`, `${dir}${tarSuffix}`);
  await rename(partial, dir).catch(async (error: NodeJS.ErrnoException) => {
    // Another process finished the same template first; theirs is as good as ours.
    if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    await rm(partial, { recursive: true, force: true });
  });
}

/** Removes templates made for other migrations or PGlite releases. */
async function removeStaleTemplates(parent: string, current: string): Promise<void> {
  for (const entry of await readdir(parent)) {
    if (entry.startsWith(prefix) && !entry.startsWith(current) && !entry.includes(".partial")) {
      await rm(join(parent, entry), { recursive: true, force: true });
    }
  }
}

async function ensureIn(parent: string, name: string): Promise<string> {
  const dir = join(parent, name);
  if (existsSync(dir)) return dir;
  await mkdir(parent, { recursive: true });
  await buildTemplate(dir);
  await removeStaleTemplates(parent, name);
  return dir;
}

let ensured: Promise<string> | undefined;

/**
 * The directory of the migrated template for the current migrations: a PGlite data directory
 * to copy, never to open. The build makes it; a checkout whose migrations changed since makes
 * it on first use, in `apps/server/dist/` or, when that cannot be written, in the temporary
 * directory. Concurrent callers in one process share one build.
 */
export function ensurePgliteTemplate(): Promise<string> {
  ensured ??= (async () => {
    const name = `${prefix}${pgliteTemplateFingerprint()}`;
    const fallback = join(tmpdir(), "grouppe");
    if (existsSync(join(fallback, name))) return join(fallback, name);
    try {
      return await ensureIn(distDir, name);
    } catch {
      return await ensureIn(fallback, name);
    }
  })();
  ensured.catch(() => {
    ensured = undefined;
  });
  return ensured;
}

/**
 * Fills `dataDir`, which holds no database, with a copy of the template. `PG_VERSION`, by which
 * PGlite tells that a directory holds a database, is copied last: a copy cut short is redone.
 */
export async function copyPgliteTemplate(dataDir: string): Promise<void> {
  const template = await ensurePgliteTemplate();
  const marker = join(template, "PG_VERSION");
  await cp(template, dataDir, { recursive: true, filter: (source) => source !== marker });
  await copyFile(marker, join(dataDir, "PG_VERSION"));
}

/** The template as PGlite's `loadDataDir` takes it. */
export async function loadPgliteTemplate(): Promise<Blob> {
  const bytes = await readFile(`${await ensurePgliteTemplate()}${tarSuffix}`);
  return new Blob([bytes], { type: "application/gzip" });
}
