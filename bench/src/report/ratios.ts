import { whole } from "./markdown-table.js";
import { median } from "./median.js";
import {
  type BenchReport,
  type RatioCheck,
  stockGrouppe,
  type ThroughputRow,
} from "./report-types.js";

/** The targets grouppe is held to; every figure comes from the same run. */
export const targets = {
  healthVsConnectFastify: 1.0,
  healthVsGrpcJs: 1.0,
  getEventVsGrpcJs: 0.9,
  connectBinaryVsGrpcJs: 1.0,
  http1VsStock: 2.0,
  postgresVsPglite: 0.9,
  getEventVsHealth: 0.5,
  connectJsonVsGrpc: 0.7,
  fanoutMessagesPerSecond: 80_000,
  fanoutP99FromSendMs: 250,
  idleConnectionKib: 20,
} as const;

/** The fan-out cases the targets name: the one every server runs, and the large one. */
export const fanoutWatchers = { compared: 1_000, many: 10_000 } as const;

/** A server's row for a case; grouppe's PGlite row unless `storage` says otherwise (peers: memory). */
function throughput(
  rows: ThroughputRow[],
  server: ThroughputRow["server"],
  method: string,
  protocol: ThroughputRow["protocol"],
  storage: "pglite" | "postgres" = "pglite",
): ThroughputRow | undefined {
  return rows.find(
    (candidate) =>
      candidate.server === server &&
      candidate.method === method &&
      candidate.protocol === protocol &&
      (candidate.storage === storage || candidate.storage === "memory"),
  );
}

/**
 * How many times faster the numerator's case ran. Measured in the same rounds, the ratio is
 * the median of the rounds' ratios: each compares two runs made one right after the other,
 * so the machine's drift over the run does not enter it. Otherwise, the rows' req/s.
 */
export function ratio(
  numerator: ThroughputRow | undefined,
  denominator: ThroughputRow | undefined,
): number | undefined {
  if (numerator === undefined || denominator === undefined) return undefined;
  const above = numerator.roundsRequestsPerSecond;
  const below = denominator.roundsRequestsPerSecond;
  if (above && below && above.length === below.length && above.length > 1) {
    if (below.some((value) => value === 0)) return undefined;
    return median(above.map((value, round) => value / (below[round] as number)));
  }
  const { requestsPerSecond } = denominator.result;
  return requestsPerSecond ? numerator.result.requestsPerSecond / requestsPerSecond : undefined;
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

const protocolNames = {
  grpc: "gRPC",
  "connect-proto": "Connect binary (h2c)",
  "connect-json": "Connect JSON (HTTP/1.1)",
  "grpc-web": "gRPC-Web (HTTP/1.1)",
} as const;

/** The headline checks, computed from one report's rows (PGlite rows for grouppe). */
export function computeRatios(report: Omit<BenchReport, "ratios">): RatioCheck[] {
  const rows = report.throughput;
  const grouppe = (method: string, protocol: ThroughputRow["protocol"]) =>
    throughput(rows, "grouppe", method, protocol);
  const grpcJs = (method: string) => throughput(rows, "grpc-js", method, "grpc");
  const grouppeHealth = grouppe("Health/Check", "grpc");
  const grouppeGetEvent = grouppe("GetEvent", "grpc");
  const fanoutOf = (watchers: number) =>
    report.fanout.find(
      (row) => row.server === "grouppe" && row.storage === "pglite" && row.watchers === watchers,
    );
  const fanout = fanoutOf(fanoutWatchers.compared);
  const manyFanout = fanoutOf(fanoutWatchers.many);
  const idle = report.idleConnections[0];
  const methods = ["Health/Check", "GetEvent"] as const;
  return [
    check(
      "grouppe Health/Check gRPC / stock connect-fastify Health/Check gRPC",
      ratio(grouppeHealth, throughput(rows, "connect-fastify", "Health/Check", "grpc")),
      ">=",
      targets.healthVsConnectFastify,
      "x",
    ),
    check(
      "grouppe Health/Check gRPC / grpc-js Health/Check gRPC",
      ratio(grouppeHealth, grpcJs("Health/Check")),
      ">=",
      targets.healthVsGrpcJs,
      "x",
    ),
    check(
      "grouppe GetEvent gRPC / grpc-js GetEvent gRPC",
      ratio(grouppeGetEvent, grpcJs("GetEvent")),
      ">=",
      targets.getEventVsGrpcJs,
      "x",
    ),
    ...methods.map((method) =>
      check(
        `grouppe ${method} ${protocolNames["connect-proto"]} / grpc-js ${method} gRPC`,
        ratio(grouppe(method, "connect-proto"), grpcJs(method)),
        ">=",
        targets.connectBinaryVsGrpcJs,
        "x",
      ),
    ),
    ...(["connect-json", "grpc-web"] as const).flatMap((protocol) =>
      methods.map((method) =>
        check(
          `grouppe ${method} ${protocolNames[protocol]} / the same with GROUPPE_ENGINE=connect`,
          ratio(grouppe(method, protocol), throughput(rows, stockGrouppe, method, protocol)),
          ">=",
          targets.http1VsStock,
          "x",
        ),
      ),
    ),
    ...methods.map((method) =>
      check(
        `grouppe on PostgreSQL ${method} gRPC / the same on PGlite`,
        ratio(throughput(rows, "grouppe", method, "grpc", "postgres"), grouppe(method, "grpc")),
        ">=",
        targets.postgresVsPglite,
        "x",
      ),
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
      ratio(grouppe("GetEvent", "connect-json"), grouppeGetEvent),
      ">=",
      targets.connectJsonVsGrpc,
      "x",
    ),
    check(
      `WatchEvent fan-out to ${whole(fanoutWatchers.compared)} watchers`,
      fanout?.messagesPerSecond,
      ">=",
      targets.fanoutMessagesPerSecond,
      "msgs/s",
    ),
    check(
      `WatchEvent fan-out to ${whole(fanoutWatchers.compared)} watchers: p99 from send`,
      fanout === undefined ? undefined : fanout.latencyFromSendUs.p99 / 1_000,
      "<=",
      targets.fanoutP99FromSendMs,
      "ms",
    ),
    check(
      `WatchEvent fan-out to ${whole(fanoutWatchers.many)} watchers`,
      manyFanout?.messagesPerSecond,
      ">=",
      targets.fanoutMessagesPerSecond,
      "msgs/s",
    ),
    check(
      `server RSS per idle HTTP/2 connection at ${whole(idle?.opened ?? 10_000)}`,
      idle?.perConnectionKib,
      "<=",
      targets.idleConnectionKib,
      "KiB",
    ),
  ];
}
