import { describe, expect, it } from "vitest";
import type { LatencySummary, LoadResult } from "../load/load-spec.js";
import { check, computeRatios, ratio } from "./ratios.js";
import {
  type BenchReport,
  type FanoutRow,
  stockGrouppe,
  type ThroughputRow,
} from "./report-types.js";

describe("check", () => {
  it("says by how much a target is missed, in either direction", () => {
    expect(check("a", 0.8, ">=", 1, "x").verdict).toBe("missed by 20.0%: 0.80x, needs 1.00x");
    expect(check("b", 30, "<=", 25, "KiB")).toMatchObject({
      met: false,
      verdict: "missed by 20.0%: 30.0 KiB, limit 25.0 KiB",
    });
    expect(check("c", 90_000, ">=", 80_000, "msgs/s")).toMatchObject({ met: true });
    expect(check("d", undefined, ">=", 1, "x")).toMatchObject({
      met: undefined,
      verdict: "not measured in this run",
    });
  });
});

const latency = (p99Us: number): LatencySummary =>
  ({ p50: p99Us / 2, p90: p99Us, p99: p99Us, max: p99Us }) as LatencySummary;

function row(
  server: ThroughputRow["server"],
  method: string,
  protocol: ThroughputRow["protocol"],
  requestsPerSecond: number,
  storage: ThroughputRow["storage"] = server === "connect-fastify" || server === "grpc-js"
    ? "memory"
    : "pglite",
): ThroughputRow {
  return {
    server,
    storage,
    method,
    protocol,
    transport: protocol === "grpc" || protocol === "connect-proto" ? "h2c" : "http/1.1",
    concurrency: "",
    result: { requestsPerSecond, latencyUs: latency(1_000) } as LoadResult,
  };
}

function fanout(watchers: number, messagesPerSecond: number, p99Us: number): FanoutRow {
  return {
    server: "grouppe",
    storage: "pglite",
    watchers,
    messagesPerSecond,
    latencyFromSendUs: latency(p99Us),
  } as FanoutRow;
}

function report(parts: Partial<Omit<BenchReport, "ratios">>): Omit<BenchReport, "ratios"> {
  return { throughput: [], fanout: [], idleConnections: [], ...parts } as Omit<
    BenchReport,
    "ratios"
  >;
}

const byName = (checks: ReturnType<typeof computeRatios>) =>
  Object.fromEntries(checks.map((c) => [c.name, c.value === undefined ? "-" : c.value]));

describe("computeRatios", () => {
  it("divides figures of the same run, per method and protocol", () => {
    const checks = computeRatios(
      report({
        throughput: [
          row("grpc-js", "Health/Check", "grpc", 10_000),
          row("grpc-js", "GetEvent", "grpc", 8_000),
          row("grouppe", "Health/Check", "grpc", 12_000),
          row("grouppe", "GetEvent", "grpc", 6_000),
          row("grouppe", "Health/Check", "connect-proto", 15_000),
          row("grouppe", "GetEvent", "connect-proto", 4_000),
          row("grouppe", "Health/Check", "connect-json", 9_000),
          row("grouppe", "GetEvent", "connect-json", 3_000),
          row("grouppe", "Health/Check", "grpc-web", 8_000),
          row("grouppe", "GetEvent", "grpc-web", 2_000),
          row(stockGrouppe, "Health/Check", "connect-json", 3_000),
          row(stockGrouppe, "GetEvent", "connect-json", 2_000),
          row(stockGrouppe, "Health/Check", "grpc-web", 2_000),
          row(stockGrouppe, "GetEvent", "grpc-web", 1_000),
          row("grouppe", "Health/Check", "grpc", 10_800, "postgres"),
          row("grouppe", "GetEvent", "grpc", 3_000, "postgres"),
        ],
        fanout: [fanout(1_000, 90_000, 300_000), fanout(10_000, 70_000, 900_000)],
        idleConnections: [{ opened: 10_000, perConnectionKib: 19.5 } as never],
      }),
    );
    expect(byName(checks)).toEqual({
      "grouppe Health/Check gRPC / stock connect-fastify Health/Check gRPC": "-",
      "grouppe Health/Check gRPC / grpc-js Health/Check gRPC": 1.2,
      "grouppe GetEvent gRPC / grpc-js GetEvent gRPC": 0.75,
      "grouppe Health/Check Connect binary (h2c) / grpc-js Health/Check gRPC": 1.5,
      "grouppe GetEvent Connect binary (h2c) / grpc-js GetEvent gRPC": 0.5,
      "grouppe Health/Check Connect JSON (HTTP/1.1) / the same with GROUPPE_ENGINE=connect": 3,
      "grouppe GetEvent Connect JSON (HTTP/1.1) / the same with GROUPPE_ENGINE=connect": 1.5,
      "grouppe Health/Check gRPC-Web (HTTP/1.1) / the same with GROUPPE_ENGINE=connect": 4,
      "grouppe GetEvent gRPC-Web (HTTP/1.1) / the same with GROUPPE_ENGINE=connect": 2,
      "grouppe on PostgreSQL Health/Check gRPC / the same on PGlite": 0.9,
      "grouppe on PostgreSQL GetEvent gRPC / the same on PGlite": 0.5,
      "grouppe GetEvent gRPC / grouppe Health/Check gRPC": 0.5,
      "grouppe GetEvent Connect JSON / grouppe GetEvent gRPC": 0.5,
      "WatchEvent fan-out to 1,000 watchers": 90_000,
      "WatchEvent fan-out to 1,000 watchers: p99 from send": 300,
      "WatchEvent fan-out to 10,000 watchers": 70_000,
      "server RSS per idle HTTP/2 connection at 10,000": 19.5,
    });
    const verdicts = Object.fromEntries(checks.map((c) => [c.name, c.met]));
    expect(verdicts["grouppe GetEvent gRPC / grpc-js GetEvent gRPC"]).toBe(false);
    expect(verdicts["grouppe on PostgreSQL Health/Check gRPC / the same on PGlite"]).toBe(true);
    expect(verdicts["WatchEvent fan-out to 1,000 watchers: p99 from send"]).toBe(false);
    expect(verdicts["WatchEvent fan-out to 10,000 watchers"]).toBe(false);
    expect(verdicts["server RSS per idle HTTP/2 connection at 10,000"]).toBe(true);
  });

  it("says 'not measured' for every figure whose part was left out", () => {
    const checks = computeRatios(
      report({ throughput: [row("grouppe", "Health/Check", "grpc", 12_000)] }),
    );
    expect(checks.length).toBeGreaterThan(10);
    for (const c of checks) {
      expect(c.met, c.name).toBeUndefined();
      expect(c.verdict, c.name).toBe("not measured in this run");
    }
  });
});

describe("ratio", () => {
  const rounds = (base: ThroughputRow, roundsRequestsPerSecond: number[]): ThroughputRow => ({
    ...base,
    roundsRequestsPerSecond,
  });

  it("takes the median of the rounds' ratios, not the ratio of the median rounds", () => {
    // Round by round 1.2, 1.2 and 0.9: the third round ran while the machine was busier for
    // the numerator. The rows' own req/s (the median rounds, 9,000 and 10,000) would say 0.9.
    const numerator = rounds(row("grouppe", "Health/Check", "grpc", 9_000), [12_000, 6_000, 9_000]);
    const denominator = rounds(
      row("grpc-js", "Health/Check", "grpc", 10_000),
      [10_000, 5_000, 10_000],
    );
    expect(ratio(numerator, denominator)).toBeCloseTo(1.2, 10);
    // An even count of rounds: the mean of the two middle ratios (1.0 and 1.5).
    expect(
      ratio(
        rounds(numerator, [1_000, 3_000, 1_000, 4_000]),
        rounds(denominator, [2_000, 2_000, 1_000, 2_000]),
      ),
    ).toBeCloseTo(1.25, 10);
  });

  it("divides the rows' req/s when the rounds do not pair up", () => {
    const numerator = rounds(row("grouppe", "Health/Check", "grpc", 9_000), [12_000, 6_000, 9_000]);
    expect(ratio(numerator, row("grpc-js", "Health/Check", "grpc", 10_000))).toBeCloseTo(0.9, 10);
    expect(
      ratio(numerator, rounds(row("grpc-js", "Health/Check", "grpc", 10_000), [8_000, 10_000])),
    ).toBeCloseTo(0.9, 10);
    expect(ratio(numerator, rounds(row("grpc-js", "Health/Check", "grpc", 0), [0, 0, 0]))).toBe(
      undefined,
    );
    expect(ratio(numerator, undefined)).toBeUndefined();
  });
});
