import { describe, expect, it } from "vitest";
import type { LoadResult } from "../load/load-spec.js";
import { renderMarkdown } from "./markdown-report.js";
import { type BenchReport, baselineGrouppe, type ThroughputRow } from "./report-types.js";

function row(server: ThroughputRow["server"], rounds: number[]): ThroughputRow {
  return {
    server,
    storage: "pglite",
    method: "Health/Check",
    protocol: "grpc",
    transport: "h2c",
    concurrency: "16 conns x 64 streams",
    result: {
      engine: "h2load",
      requestsPerSecond: [...rounds].sort((a, b) => a - b)[1] ?? 0,
      latencyUs: { p50: 1_000, p90: 2_000, p99: 3_000, max: 4_000, mean: 1_500 },
      errors: {},
    } as unknown as LoadResult,
    roundsRequestsPerSecond: rounds,
  };
}

const report = (throughput: ThroughputRow[]) =>
  ({
    mode: "full",
    startedAt: "2026-12-01T00:00:00.000Z",
    finishedAt: "2026-12-01T00:10:00.000Z",
    machine: {
      cpus: 2,
      cpuModel: "cpu",
      memoryGib: 24,
      node: "v24",
      platform: "linux",
      loadAverage: [1, 1, 1],
    },
    loadGenerator: "h2load",
    serverEnv: {},
    throughput,
    fanout: [],
    idleConnections: [],
    startup: [],
    imports: [],
    ratios: [],
    notes: [],
  }) as BenchReport;

describe("renderMarkdown", () => {
  it("lists every round's req/s beside the median round", () => {
    expect(renderMarkdown(report([row("grpc-js", [9_000, 12_000, 10_500])]))).toContain(
      "| grpc-js | pglite | Health/Check | grpc | h2c | 16 conns x 64 streams | 10,500 | 1.00 | 2.00 | 3.00 | none | h2load | 9,000 / 12,000 / 10,500 |",
    );
  });

  it("compares this build with the baseline round by round, when the run had one", () => {
    // Round ratios 1.2, 1.0 and 1.1: the median is 1.1, not 10,500 / 10,500.
    const markdown = renderMarkdown(
      report([
        row("grouppe", [12_000, 10_000, 10_500]),
        row(baselineGrouppe, [10_000, 10_000, 9_545]),
      ]),
    );
    expect(markdown).toContain("## This build against the baseline");
    expect(markdown).toContain("| Health/Check | grpc | 10,500 | 10,000 | 1.10 |");
    expect(renderMarkdown(report([row("grouppe", [1, 2, 3])]))).not.toContain("baseline");
  });
});
