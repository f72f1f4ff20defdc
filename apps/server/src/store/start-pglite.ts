import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { choosePgliteOptimize, pgliteOptimizeChosen } from "./pglite-optimize.js";

/** The `dataDir` of a database that lives only as long as the process. */
export const inMemory = "memory://";

/**
 * Settings PGlite starts with, on top of its own. PGlite is one single-user backend in one
 * WebAssembly memory, so PostgreSQL's defaults (sized for a server with 100 connections and a
 * 128 MB buffer pool) cost resident memory without buying anything: pages evicted from a smaller
 * pool come back from the operating system's page cache.
 */
export const pgliteSettings: Readonly<Record<string, string>> = {
  shared_buffers: "16MB",
  max_connections: "8",
};

function startParams(): string[] {
  const params = [...PGlite.defaultStartParams];
  for (const [name, value] of Object.entries(pgliteSettings)) params.push("-c", `${name}=${value}`);
  return params;
}

/** Whether `dataDir` (a directory or `memory://`) already holds a database. */
export function holdsDatabase(dataDir: string): boolean {
  return !dataDir.startsWith(inMemory) && existsSync(join(dataDir, "PG_VERSION"));
}

/**
 * Starts PGlite on `dataDir` (a directory, created when missing, or `memory://`). A `template`
 * tarball fills a `dataDir` that holds no database yet; without one PGlite runs initdb there.
 * Unless {@link choosePgliteOptimize} was called, the process keeps PGlite optimized for memory.
 */
export async function startPglite(dataDir: string, template?: Blob): Promise<PGlite> {
  if (!dataDir.startsWith(inMemory)) await mkdir(dataDir, { recursive: true });
  if (pgliteOptimizeChosen() === undefined) choosePgliteOptimize("memory");
  return PGlite.create(dataDir, {
    startParams: startParams(),
    ...(template && !holdsDatabase(dataDir) ? { loadDataDir: template } : {}),
  });
}
