import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { PGlite } from "@electric-sql/pglite";

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

let baselineOnly = false;

/**
 * Keeps PGlite's WebAssembly on V8's baseline compiler (Liftoff). With tier-up, V8 recompiles
 * hot functions with its optimizing compiler, and one of PostgreSQL's (about 100 KB of wasm)
 * takes over 600 MB of compiler memory for a few seconds: the process peaked at 700-800 MB where
 * it idles at 200. Our queries are small and mostly time spent outside wasm, so baseline code
 * loses nothing measurable (a PGlite micro-benchmark of inserts, gets and scans ran no slower).
 * The flags are read when a module is compiled, so they are set before the first PGlite starts.
 */
function keepWasmOnBaselineCompiler(): void {
  if (baselineOnly) return;
  setFlagsFromString("--no-wasm-tier-up");
  setFlagsFromString("--no-wasm-dynamic-tiering");
  baselineOnly = true;
}

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
 */
export async function startPglite(dataDir: string, template?: Blob): Promise<PGlite> {
  if (!dataDir.startsWith(inMemory)) await mkdir(dataDir, { recursive: true });
  keepWasmOnBaselineCompiler();
  return PGlite.create(dataDir, {
    startParams: startParams(),
    ...(template && !holdsDatabase(dataDir) ? { loadDataDir: template } : {}),
  });
}
