import { describe, expect, it } from "vitest";
import type { LoadResult, LoadSpec } from "../load/load-spec.js";
import { roundsRow } from "./unary-rounds.js";

const result = (requestsPerSecond: number, p99: number, errors: Record<string, number> = {}) =>
  ({ requestsPerSecond, latencyUs: { p99 }, errors }) as LoadResult;

describe("roundsRow", () => {
  const target = {
    server: "grpc-js" as const,
    storage: "memory" as const,
    h2cUrl: "http://127.0.0.1:1",
    eventId: "e",
  };
  const spec = { transport: "h2c", connections: 16, streamsPerConnection: 64 } as LoadSpec;

  it("reports the median round with its latencies, every round's req/s and all failures", () => {
    const row = roundsRow(target, { method: "Health/Check", protocol: "grpc" }, spec, [
      result(9_000, 30, { unavailable: 1 }),
      result(7_000, 50),
      result(11_000, 20, { unavailable: 2, probe_internal: 1 }),
    ]);
    expect(row).toMatchObject({
      server: "grpc-js",
      method: "Health/Check",
      protocol: "grpc",
      transport: "h2c",
      concurrency: "16 conns x 64 streams",
      roundsRequestsPerSecond: [9_000, 7_000, 11_000],
      result: {
        requestsPerSecond: 9_000,
        latencyUs: { p99: 30 },
        errors: { unavailable: 3, probe_internal: 1 },
      },
    });
  });

  it("takes the lower middle round of an even count", () => {
    const row = roundsRow(target, { method: "GetEvent", protocol: "grpc" }, spec, [
      result(8_000, 1),
      result(6_000, 2),
    ]);
    expect(row.result.requestsPerSecond).toBe(6_000);
  });
});
