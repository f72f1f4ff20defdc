import { waitUntilQuiet } from "../grouppe/wait-until-quiet.js";
import type { LoadResult, LoadSpec } from "../load/load-spec.js";
import { runLoad } from "../load/run-load.js";
import type { ThroughputRow } from "../report/report-types.js";
import type { BenchContext } from "./bench-context.js";
import {
  describeConcurrency,
  describeRow,
  selectedCases,
  type UnaryCase,
  type UnaryTarget,
  unarySpec,
  warmUpUnaryCases,
} from "./unary-scenario.js";

/** A server and the unary cases it is measured on. */
export interface TargetCases {
  target: UnaryTarget;
  cases: UnaryCase[];
}

/** One case on one server, with what each round measured. */
interface Cell {
  target: UnaryTarget;
  unaryCase: UnaryCase;
  spec: LoadSpec;
  results: LoadResult[];
}

const caseKey = (unaryCase: UnaryCase) => `${unaryCase.method}:${unaryCase.protocol}`;

/**
 * The row of a case measured in several rounds: the round with the median throughput (the
 * lower middle one for an even count) and its latencies, every round's req/s, and the failures
 * of all rounds together.
 */
export function roundsRow(
  target: UnaryTarget,
  unaryCase: UnaryCase,
  spec: LoadSpec,
  results: readonly LoadResult[],
): ThroughputRow {
  const byThroughput = [...results].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  const middle = byThroughput[(byThroughput.length - 1) >> 1];
  if (middle === undefined) throw new Error("a case with no round");
  const errors: Record<string, number> = {};
  for (const result of results)
    for (const [code, count] of Object.entries(result.errors))
      errors[code] = (errors[code] ?? 0) + count;
  return {
    server: target.server,
    storage: target.storage,
    method: unaryCase.method,
    protocol: unaryCase.protocol,
    transport: spec.transport,
    concurrency: describeConcurrency(spec),
    result: { ...middle, errors },
    roundsRequestsPerSecond: results.map((result) => result.requestsPerSecond),
  };
}

/**
 * Lets a server just loaded finish what its load left behind before the next run starts: a
 * slow server still answers queued calls and collects their garbage for a second or more, and
 * on two cores the next server measured would pay for it. Says so when it did not go quiet.
 */
async function settle(target: UnaryTarget, maxMs: number): Promise<string> {
  if (target.pid === undefined || maxMs <= 0 || process.platform !== "linux") return "";
  const { quiet, waitedMs } = await waitUntilQuiet(target.pid, { maxMs });
  return quiet ? "" : ` (still busy ${waitedMs} ms later)`;
}

/**
 * Measures every server on its cases in rounds: in each round every case runs on each server
 * that has it, one server right after the other, the order reversed every other round. This
 * machine is shared and its speed drifts by 20% and more within minutes; servers measured
 * back to back meet the same drift, and a ratio taken round by round (see report/ratios.ts)
 * cancels it, where one long run per server, minutes apart, would compare two moments. Each
 * server is let go quiet after its run, so that no run pays for the one before it.
 */
export async function runUnaryRounds(
  targets: readonly TargetCases[],
  context: BenchContext,
): Promise<ThroughputRow[]> {
  const selected = targets.map(({ target, cases }) => ({
    target,
    cases: selectedCases(cases, context),
  }));
  for (const { target, cases } of selected) {
    if (cases.length === 0) continue;
    const started = performance.now();
    await warmUpUnaryCases(target, cases, context);
    await settle(target, context.shape.settleMaxMs);
    context.progress(
      `${target.server}/${target.storage} warmed up on ${cases.length} case(s) in ${Math.round(performance.now() - started)} ms`,
    );
  }
  // Cases in the order they first appear, each with the servers that run it.
  const byCase = new Map<string, Cell[]>();
  for (const { target, cases } of selected)
    for (const unaryCase of cases) {
      const cells = byCase.get(caseKey(unaryCase)) ?? [];
      cells.push({ target, unaryCase, spec: unarySpec(target, unaryCase, context), results: [] });
      byCase.set(caseKey(unaryCase), cells);
    }
  const rounds = context.shape.rounds;
  for (let round = 0; round < rounds; round++) {
    for (const cells of byCase.values()) {
      const ordered = round % 2 === 0 ? cells : [...cells].reverse();
      for (const cell of ordered) {
        const result = await runLoad(cell.spec, context.h2load);
        cell.results.push(result);
        const settled = await settle(cell.target, context.shape.settleMaxMs);
        const line = describeRow(roundsRow(cell.target, cell.unaryCase, cell.spec, [result]));
        context.progress(`${rounds > 1 ? `round ${round + 1}/${rounds} ` : ""}${line}${settled}`);
      }
    }
  }
  // Rows grouped by server, as the report lists them.
  return selected.flatMap(({ target, cases }) =>
    cases.map((unaryCase) => {
      const cell = byCase
        .get(caseKey(unaryCase))
        ?.find((candidate) => candidate.target === target) as Cell;
      return roundsRow(target, unaryCase, cell.spec, cell.results);
    }),
  );
}
