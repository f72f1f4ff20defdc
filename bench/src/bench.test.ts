import { describe, expect, it } from "vitest";
import { presetOptions } from "./bench-options.js";
import { grouppeBuilt } from "./grouppe/grouppe-process.js";
import { findH2load } from "./load/h2load-runner.js";
import { runLoad } from "./load/run-load.js";
import { fixtureEventId } from "./peers/fixture.js";
import { startPeer } from "./peers/start-peer.js";
import { renderMarkdown } from "./report/markdown-report.js";
import { computeRatios } from "./report/ratios.js";
import { renderThroughputSvg } from "./report/svg-chart.js";
import { runBench } from "./run-bench.js";
import { unarySpec } from "./scenarios/unary-scenario.js";

const h2load = await findH2load();
// Outside CI a machine without h2load skips that check with a line; in CI it must run.
if (h2load === undefined) {
  if (process.env.CI) throw new Error("h2load not found (Debian: nghttp2-client); CI needs it");
  console.warn("skipping the h2load check: no h2load on PATH (Debian: nghttp2-client)");
}

describe("bench smoke run", () => {
  it("loads a peer (and grouppe when built) and produces a well-formed report", async () => {
    const progress: string[] = [];
    const report = await runBench(presetOptions("smoke"), (line) => progress.push(line));

    expect(report.notes.filter((note) => note.startsWith("FAILED"))).toEqual([]);
    const peerRow = report.throughput.find((row) => row.server === "bare-http2");
    expect(peerRow?.result.requests).toBeGreaterThan(0);
    expect(peerRow?.result.ok).toBe(peerRow?.result.requests);
    expect(peerRow?.result.errors).toEqual({});
    expect(peerRow?.result.latencyUs.p99).toBeGreaterThanOrEqual(
      peerRow?.result.latencyUs.p50 ?? 0,
    );
    expect(report.ratios.map((ratio) => ratio.name)).toHaveLength(computeRatios(report).length);
    expect(renderMarkdown(report)).toContain("| bare-http2 | memory | Health/Check | grpc |");
    expect(renderMarkdown(report)).toContain("Warm-up: before a server's first measured case");
    // Every server's cases run once unmeasured before the first measured one.
    const warmedUp = progress.filter((line) => line.includes(" warmed up on "));
    expect(warmedUp.map((line) => line.replace(/ in \d+ ms$/, ""))).toEqual(
      grouppeBuilt()
        ? ["bare-http2/memory warmed up on 1 case(s)", "grouppe/pglite warmed up on 2 case(s)"]
        : ["bare-http2/memory warmed up on 1 case(s)"],
    );
    // Two rounds: each case runs on every server in turn, the order reversed in the second.
    const rounds = progress
      .filter((line) => line.startsWith("round "))
      .map((line) => line.replace(/: \d+ req\/s.*$/, ""));
    expect(rounds).toEqual(
      grouppeBuilt()
        ? [
            "round 1/2 bare-http2/memory Health/Check grpc",
            "round 1/2 grouppe/pglite Health/Check grpc",
            "round 1/2 grouppe/pglite GetEvent connect-json",
            "round 2/2 grouppe/pglite Health/Check grpc",
            "round 2/2 bare-http2/memory Health/Check grpc",
            "round 2/2 grouppe/pglite GetEvent connect-json",
          ]
        : [
            "round 1/2 bare-http2/memory Health/Check grpc",
            "round 2/2 bare-http2/memory Health/Check grpc",
          ],
    );
    expect(peerRow?.roundsRequestsPerSecond).toHaveLength(2);
    expect(renderThroughputSvg(report)).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);

    if (!grouppeBuilt()) {
      expect(report.notes.join("\n")).toContain("grouppe is not built");
      return;
    }
    const grouppeRows = report.throughput.filter((row) => row.server === "grouppe");
    expect(grouppeRows.map((row) => `${row.method} ${row.protocol}`)).toEqual([
      "Health/Check grpc",
      "GetEvent connect-json",
      "JoinEvent+LeaveEvent grpc",
    ]);
    for (const row of grouppeRows) {
      expect(row.result.requests, `${row.method} ${row.protocol}`).toBeGreaterThan(0);
      expect(row.result.errors, `${row.method} ${row.protocol}`).toEqual({});
    }
    const [fanout] = report.fanout;
    expect(fanout?.watching).toBe(20);
    expect(fanout?.writes).toBeGreaterThan(0);
    expect(fanout?.messages).toBeGreaterThan(0);
    expect(fanout?.streamErrors).toEqual({});
    // Delivering messages takes server CPU: a reading of 0 would mean the wrong process was read.
    if (process.platform === "linux") expect(fanout?.serverCpuMsPerThousand).toBeGreaterThan(0);
    expect(report.idleConnections[0]?.opened).toBe(50);
    expect(report.startup.map((row) => row.kind)).toEqual(["first start", "restart"]);
    expect(
      report.ratios.find((ratio) => ratio.name.startsWith("grouppe GetEvent Connect JSON"))?.value,
    ).toBeUndefined();
  }, 300_000);

  it.skipIf(h2load === undefined)(
    "drives a peer with h2load and checks the RPC status with probes",
    async () => {
      const peer = await startPeer("grpc-js");
      try {
        const target = {
          server: "grpc-js" as const,
          storage: "memory" as const,
          h2cUrl: peer.h2cUrl,
          eventId: fixtureEventId,
        };
        const shape = {
          h2cConnections: 2,
          h2cStreamsPerConnection: 4,
          http1Connections: 2,
          rounds: 1,
          settleMaxMs: 0,
          durationSeconds: 0.3,
          warmUpSeconds: 0.1,
          // A fixed number of requests, not a time window: a loaded machine may complete none
          // in 0.3 s, and this test checks the probes, not the speed.
          requestCount: 40,
          serverWarmUp: { requestCount: 0 },
        };
        const context = { h2load, shape, progress: () => {} };
        const result = await runLoad(
          unarySpec(target, { method: "GetEvent", protocol: "grpc" }, context),
          h2load,
        );
        expect(result.engine).toBe("h2load");
        expect(result.requests).toBeGreaterThan(0);
        expect(result.errors).toEqual({});
        expect(result.caveat).toContain("probe");

        const missing = await runLoad(
          unarySpec(
            { ...target, eventId: "00000000-0000-4000-8000-000000000000" },
            { method: "GetEvent", protocol: "grpc" },
            context,
          ),
          h2load,
        );
        expect(missing.errors).toMatchObject({ probe_not_found: 40 });
      } finally {
        await peer.stop();
      }
    },
    60_000,
  );
});
