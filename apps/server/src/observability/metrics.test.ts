import { describe, expect, it } from "vitest";
import { RpcMetrics } from "./metrics.js";

function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}

describe("RpcMetrics", () => {
  it("renders counts, gauges and a cumulative histogram per series", async () => {
    const metrics = new RpcMetrics({ processMetrics: false });
    const series = metrics.series("grouppe.v1.EventService", "GetEvent", "grpc_proto");
    expect(metrics.series("grouppe.v1.EventService", "GetEvent", "grpc_proto")).toBe(series);
    series.finish(0, 0.0004);
    series.finish(0, 0.003);
    series.finish(5, 0.2);
    series.finish(99, 400);
    series.inFlight = 2;
    series.openStreams = 1;

    const { contentType, body } = await metrics.scrape();
    expect(contentType).toMatch(/^text\/plain/);
    const labels = 'service="grouppe.v1.EventService",method="GetEvent",protocol="grpc_proto"';
    expect(sample(body, `grpc_server_handled_total{${labels},code="OK"}`)).toBe(2);
    expect(sample(body, `grpc_server_handled_total{${labels},code="NotFound"}`)).toBe(1);
    expect(sample(body, `grpc_server_handled_total{${labels},code="Unknown"}`)).toBe(1);
    expect(sample(body, `grpc_server_in_flight{${labels}}`)).toBe(2);
    expect(sample(body, `grpc_server_open_streams{${labels}}`)).toBe(1);
    expect(sample(body, `grpc_server_handling_seconds_bucket{${labels},le="0.0005"}`)).toBe(1);
    expect(sample(body, `grpc_server_handling_seconds_bucket{${labels},le="0.005"}`)).toBe(2);
    expect(sample(body, `grpc_server_handling_seconds_bucket{${labels},le="0.25"}`)).toBe(3);
    expect(sample(body, `grpc_server_handling_seconds_bucket{${labels},le="300"}`)).toBe(3);
    expect(sample(body, `grpc_server_handling_seconds_bucket{${labels},le="+Inf"}`)).toBe(4);
    expect(sample(body, `grpc_server_handling_seconds_count{${labels}}`)).toBe(4);
    expect(sample(body, `grpc_server_handling_seconds_sum{${labels}}`)).toBeCloseTo(400.2034, 6);
  });

  it("adds process metrics unless told not to", async () => {
    expect((await new RpcMetrics().scrape()).body).toContain("process_resident_memory_bytes");
    expect((await new RpcMetrics({ processMetrics: false }).scrape()).body).not.toContain(
      "process_",
    );
  });
});
