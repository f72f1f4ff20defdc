import type { BenchReport, RatioCheck, ThroughputRow } from "./report-types.js";

/** The targets grouppe is held to; every figure comes from the same run. */
export const targets = {
  healthVsConnectFastify: 1.0,
  getEventVsHealth: 0.5,
  connectJsonVsGrpc: 0.7,
  fanoutMessagesPerSecond: 80_000,
  idleConnectionKib: 25,
} as const;

function throughput(
  rows: ThroughputRow[],
  server: ThroughputRow["server"],
  method: string,
  protocol: ThroughputRow["protocol"],
): number | undefined {
  const row = rows.find(
    (candidate) =>
      candidate.server === server &&
      candidate.method === method &&
      candidate.protocol === protocol &&
      (candidate.storage === "pglite" || candidate.storage === "memory"),
  );
  return row?.result.requestsPerSecond;
}

function ratio(numerator: number | undefined, denominator: number | undefined): number | undefined {
  return numerator !== undefined && denominator ? numerator / denominator : undefined;
}

function format(value: number, unit: string): string {
  if (unit === "x") return `${value.toFixed(2)}x`;
  return `${value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toFixed(1)} ${unit}`;
}

/** A figure checked against a target, with how far off it is in words. */
export function check(
  name: string,
  value: number | undefined,
  comparison: ">=" | "<=",
  target: number,
  unit: string,
): RatioCheck {
  if (value === undefined) {
    return {
      name,
      value,
      target,
      comparison,
      unit,
      met: undefined,
      verdict: "not measured in this run",
    };
  }
  const met = comparison === ">=" ? value >= target : value <= target;
  const off = Math.abs(value - target) / target;
  const verdict = met
    ? `met (${format(value, unit)} ${comparison} ${format(target, unit)})`
    : comparison === ">="
      ? `missed by ${(off * 100).toFixed(1)}%: ${format(value, unit)}, needs ${format(target, unit)}`
      : `missed by ${(off * 100).toFixed(1)}%: ${format(value, unit)}, limit ${format(target, unit)}`;
  return { name, value, target, comparison, unit, met, verdict };
}

/** The five headline checks, computed from one report's rows (PGlite rows for grouppe). */
export function computeRatios(report: Omit<BenchReport, "ratios">): RatioCheck[] {
  const rows = report.throughput;
  const grouppeHealth = throughput(rows, "grouppe", "Health/Check", "grpc");
  const grouppeGetEvent = throughput(rows, "grouppe", "GetEvent", "grpc");
  const fanout =
    report.fanout.find((row) => row.storage === "pglite" && row.server === "grouppe") ??
    report.fanout.find((row) => row.server === "grouppe");
  const idle = report.idleConnections[0];
  return [
    check(
      "grouppe Health/Check gRPC / stock connect-fastify Health/Check gRPC",
      ratio(grouppeHealth, throughput(rows, "connect-fastify", "Health/Check", "grpc")),
      ">=",
      targets.healthVsConnectFastify,
      "x",
    ),
    check(
      "grouppe GetEvent gRPC / grouppe Health/Check gRPC",
      ratio(grouppeGetEvent, grouppeHealth),
      ">=",
      targets.getEventVsHealth,
      "x",
    ),
    check(
      "grouppe GetEvent Connect JSON / grouppe GetEvent gRPC",
      ratio(throughput(rows, "grouppe", "GetEvent", "connect-json"), grouppeGetEvent),
      ">=",
      targets.connectJsonVsGrpc,
      "x",
    ),
    check(
      `WatchEvent fan-out to ${fanout?.watchers ?? 1_000} watchers`,
      fanout?.messagesPerSecond,
      ">=",
      targets.fanoutMessagesPerSecond,
      "msgs/s",
    ),
    check(
      `server RSS per idle HTTP/2 connection at ${idle?.opened ?? 10_000}`,
      idle?.perConnectionKib,
      "<=",
      targets.idleConnectionKib,
      "KiB",
    ),
  ];
}
