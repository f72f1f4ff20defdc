import { h2loadCanRun, runH2load } from "../load/h2load-runner.js";
import type { LoadSpec, Protocol } from "../load/load-spec.js";
import { defaultTransport } from "../load/rpc-protocol.js";
import { runNodeLoad } from "../load/run-load.js";
import type { ServerName, Storage, ThroughputRow } from "../report/report-types.js";
import { type BenchContext, loadWindow } from "./bench-context.js";
import { type UnaryMethod, unaryTemplate } from "./unary-requests.js";

/** A server to load, with its h2c URL and, where it speaks it, its HTTP/1.1 URL. */
export interface UnaryTarget {
  server: ServerName;
  storage: Storage;
  h2cUrl: string;
  http1Url?: string;
  /** The event GetEvent asks for. */
  eventId: string;
  /** The server's process, which the rounds let go quiet after loading it. */
  pid?: number;
}

/** One method over one protocol. */
export interface UnaryCase {
  method: UnaryMethod;
  protocol: Protocol;
  /**
   * A quarter of the usual concurrency, for calls that cost milliseconds each (a page of
   * events): with a thousand in flight a short run would mostly measure the queue.
   */
  light?: boolean;
}

/** Every pairing of `methods` and `protocols`. */
export function unaryCases(methods: UnaryMethod[], protocols: Protocol[]): UnaryCase[] {
  return methods.flatMap((method) => protocols.map((protocol) => ({ method, protocol })));
}

/** The closed-loop load of one case: h2c with many streams, HTTP/1.1 with many sockets. */
export function unarySpec(
  target: UnaryTarget,
  unaryCase: UnaryCase,
  context: BenchContext,
): LoadSpec {
  const transport = defaultTransport(unaryCase.protocol);
  const url = transport === "h2c" ? target.h2cUrl : target.http1Url;
  if (!url) throw new Error(`${target.server} has no ${transport} listener`);
  const { shape } = context;
  const quarter = (value: number) => (unaryCase.light ? Math.max(1, Math.round(value / 4)) : value);
  return {
    url,
    protocol: unaryCase.protocol,
    transport,
    requests: [unaryTemplate(unaryCase.method, unaryCase.protocol, target.eventId)],
    connections: quarter(transport === "h2c" ? shape.h2cConnections : shape.http1Connections),
    streamsPerConnection: transport === "h2c" ? quarter(shape.h2cStreamsPerConnection) : 1,
    ...loadWindow(shape),
  };
}

/** How a spec's concurrency reads in the report. */
export function describeConcurrency(spec: LoadSpec): string {
  return spec.transport === "h2c"
    ? `${spec.connections} conns x ${spec.streamsPerConnection} streams`
    : `${spec.connections} keep-alive conns`;
}

/** One line of progress for a finished row. */
export function describeRow(row: ThroughputRow): string {
  const { result } = row;
  const failed = Object.values(result.errors).reduce((sum, count) => sum + count, 0);
  return `${row.server}/${row.storage} ${row.method} ${row.protocol}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${Math.round(result.latencyUs.p50)} µs, p99 ${Math.round(result.latencyUs.p99)} µs${failed ? `, ${failed} errors ${JSON.stringify(result.errors)}` : ""}`;
}

/** The cases `--cases` lets through. */
export function selectedCases(cases: UnaryCase[], context: BenchContext): UnaryCase[] {
  return cases.filter(
    (unaryCase) => !context.cases || context.cases.has(`${unaryCase.method}:${unaryCase.protocol}`),
  );
}

/**
 * Drives every case once, briefly and unmeasured, with the generator and concurrency its
 * measured run will use: a server process starts cold, and without this the first case
 * measured on it would pay for the JIT's warm-up and the later ones would not.
 */
export async function warmUpUnaryCases(
  target: UnaryTarget,
  cases: UnaryCase[],
  context: BenchContext,
): Promise<void> {
  const { serverWarmUp } = context.shape;
  for (const unaryCase of selectedCases(cases, context)) {
    const spec: LoadSpec = {
      ...unarySpec(target, unaryCase, context),
      ...("seconds" in serverWarmUp
        ? { requestCount: undefined, durationSeconds: serverWarmUp.seconds, warmUpSeconds: 0 }
        : { requestCount: serverWarmUp.requestCount }),
    };
    // No probe afterwards (unlike runLoad): nothing here is reported.
    if (context.h2load && h2loadCanRun(spec)) await runH2load(context.h2load, spec);
    else await runNodeLoad(spec);
  }
}
