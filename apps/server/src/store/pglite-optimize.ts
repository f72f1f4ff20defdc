import { setFlagsFromString } from "node:v8";

/**
 * How PGlite's WebAssembly is compiled (GROUPPE_PGLITE_OPTIMIZE). `memory`: V8's baseline
 * compiler (Liftoff) only. `speed`: V8 recompiles hot functions with its optimizing compiler,
 * as it does by default; one of PostgreSQL's (about 100 KB of wasm) then takes about 600 MB of
 * compiler memory for a few seconds of CPU (12-20 s on a busy 2-core machine), so the process
 * peaked at 750-850 MiB where it idles under 200. In return, indexed lookups ran 1.5-1.8 times
 * as fast and small scans 1.2-1.9 times in a micro-benchmark of 3,000 each; inserts ran the
 * same. Event reads mostly come from the read cache, so the server's throughput is bound
 * elsewhere, and `memory` is the default.
 */
export type PgliteOptimize = "memory" | "speed";

export const pgliteOptimizeChoices: readonly PgliteOptimize[] = ["memory", "speed"];

let chosen: PgliteOptimize | undefined;

/** What {@link choosePgliteOptimize} fixed, if anything yet. */
export function pgliteOptimizeChosen(): PgliteOptimize | undefined {
  return chosen;
}

/**
 * Fixes how PGlite's WebAssembly is compiled, for the whole process: V8 reads these flags when
 * a module is compiled, so they are set before the first PGlite starts, and once. A later
 * different choice throws rather than silently keeping the first.
 */
export function choosePgliteOptimize(optimize: PgliteOptimize): void {
  if (chosen === optimize) return;
  if (chosen !== undefined) {
    throw new Error(`PGlite already runs optimized for ${chosen} in this process, not ${optimize}`);
  }
  const tierUp = optimize === "speed";
  setFlagsFromString(tierUp ? "--wasm-tier-up" : "--no-wasm-tier-up");
  setFlagsFromString(tierUp ? "--wasm-dynamic-tiering" : "--no-wasm-dynamic-tiering");
  chosen = optimize;
}
