import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { startGrouppe } from "../grouppe/grouppe-process.js";
import { peakResidentKib, residentKib } from "../grouppe/process-memory.js";
import { median } from "../report/median.js";
import type { StartupRow } from "../report/report-types.js";
import type { BenchContext } from "./bench-context.js";

/** Resident memory of one run, in KiB. */
interface Memory {
  idleKib: number;
  peakKib: number;
}

/** A start-up row from measured times (and the memory of each run, when measured). */
export function startupRow(
  storage: StartupRow["storage"],
  kind: StartupRow["kind"],
  millis: number[],
  memory: Memory[] = [],
): StartupRow {
  const rounded = millis.map((value) => Math.round(value));
  const row: StartupRow = { storage, kind, millis: rounded, medianMs: Math.round(median(rounded)) };
  if (memory.length) {
    row.idleRssMib = Math.round(median(memory.map((run) => run.idleKib)) / 1024);
    row.peakRssMib = Math.round(median(memory.map((run) => run.peakKib)) / 1024);
  }
  return row;
}

/**
 * Starts grouppe on `dataDir`, leaves it idle for `idleMs` and reads its resident memory then
 * and its peak so far (Linux /proc; no memory elsewhere).
 */
async function startOnce(
  dataDir: string,
  idleMs: number,
): Promise<{ millis: number; memory?: Memory }> {
  const grouppe = await startGrouppe({ dataDir });
  try {
    await delay(idleMs);
    const memory = await Promise.all([residentKib(grouppe.pid), peakResidentKib(grouppe.pid)])
      .then(([idleKib, peakKib]) => ({ idleKib, peakKib }))
      .catch(() => undefined);
    return { millis: grouppe.startupMs, memory };
  } finally {
    await grouppe.stop();
  }
}

/**
 * `node dist/main.js` until /readyz is 200 with PGlite: the first start on an empty data
 * directory (a copy of the migrated template and a new signing key), then `restarts` starts
 * on `dataDir` (seeded by an earlier part, or by that first start). Each run idles for
 * `idleMs` before its memory is read.
 */
export async function runStartupScenario(
  dataDir: string,
  restarts: number,
  idleMs: number,
  context: BenchContext,
): Promise<StartupRow[]> {
  // An earlier part may have seeded `dataDir`; the first start needs an empty directory.
  const seeded = existsSync(join(dataDir, "pglite"));
  const emptyDir = seeded ? await mkdtemp(join(tmpdir(), "grouppe-bench-first-")) : dataDir;
  let first: Awaited<ReturnType<typeof startOnce>>;
  try {
    first = await startOnce(emptyDir, idleMs);
  } finally {
    if (seeded) await rm(emptyDir, { recursive: true, force: true });
  }
  const times: number[] = [];
  const memory: Memory[] = [];
  for (let run = 0; run < restarts; run++) {
    const again = await startOnce(dataDir, idleMs);
    times.push(again.millis);
    if (again.memory) memory.push(again.memory);
  }
  const rows = [
    startupRow("pglite", "first start", [first.millis], first.memory ? [first.memory] : []),
  ];
  if (times.length) rows.push(startupRow("pglite", "restart", times, memory));
  for (const row of rows) {
    const rss =
      row.idleRssMib === undefined
        ? ""
        : `; RSS ${row.idleRssMib} MiB idle, ${row.peakRssMib} MiB peak`;
    context.progress(
      `grouppe/pglite start-up (${row.kind}): median ${row.medianMs} ms of ${row.millis.join(", ")}${rss}`,
    );
  }
  return rows;
}
