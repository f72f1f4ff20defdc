import { startGrouppe } from "../grouppe/grouppe-process.js";
import type { StartupRow } from "../report/report-types.js";
import type { BenchContext } from "./bench-context.js";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** A start-up row from measured times. */
export function startupRow(
  storage: StartupRow["storage"],
  kind: StartupRow["kind"],
  millis: number[],
): StartupRow {
  const rounded = millis.map((value) => Math.round(value));
  return { storage, kind, millis: rounded, medianMs: Math.round(median(rounded)) };
}

/**
 * `node dist/main.js` until /readyz is 200 with PGlite: the first start on an empty data
 * directory (migrations, signing key; measured here unless `firstStartMs` was measured
 * already on `dataDir`), then `restarts` starts on the same directory.
 */
export async function runStartupScenario(
  dataDir: string,
  restarts: number,
  context: BenchContext,
  firstStartMs?: number,
): Promise<StartupRow[]> {
  let first = firstStartMs;
  if (first === undefined) {
    const grouppe = await startGrouppe({ dataDir });
    first = grouppe.startupMs;
    await grouppe.stop();
  }
  const again: number[] = [];
  for (let run = 0; run < restarts; run++) {
    const grouppe = await startGrouppe({ dataDir });
    again.push(grouppe.startupMs);
    await grouppe.stop();
  }
  const rows = [startupRow("pglite", "first start", [first])];
  if (again.length) rows.push(startupRow("pglite", "restart", again));
  for (const row of rows)
    context.progress(
      `grouppe/pglite start-up (${row.kind}): median ${row.medianMs} ms of ${row.millis.join(", ")}`,
    );
  return rows;
}
