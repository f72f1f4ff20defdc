import { Code } from "@connectrpc/connect";
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type MetricType,
  type MetricValueWithName,
  Registry,
} from "prom-client";

/** Upper bounds of the handling-time histogram, in seconds: sub-millisecond calls to long streams. */
const handlingBuckets = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
] as const;

/** The status code names Prometheus sees, in gRPC's spelling: "OK", "NotFound", ... */
const codeNames: readonly string[] = Array.from({ length: 17 }, (_, code) =>
  code === 0 ? "OK" : (Code[code] ?? String(code)),
);

type SeriesLabel = "service" | "method" | "protocol";

/**
 * The numbers of one (service, method, protocol). The call path only adds to plain fields;
 * they become Prometheus samples when `/metrics` is scraped, so a call costs a few additions
 * instead of hashing label sets on every update.
 */
export class RpcSeries {
  inFlight = 0;
  openStreams = 0;
  /** Finished calls by status code (0 = OK). */
  readonly handled = new Float64Array(codeNames.length);
  /** Finished calls per histogram bucket, not cumulative; the last slot is +Inf. */
  readonly buckets = new Float64Array(handlingBuckets.length + 1);
  seconds = 0;
  calls = 0;
  /** "<service>/<method>", as log lines name the RPC. */
  readonly procedure: string;

  constructor(readonly labels: Readonly<Record<SeriesLabel, string>>) {
    this.procedure = `${labels.service}/${labels.method}`;
  }

  /** Records one finished call. */
  finish(code: number, seconds: number): void {
    this.handled[code < codeNames.length ? code : Code.Unknown]++;
    let bucket = 0;
    while (bucket < handlingBuckets.length && seconds > handlingBuckets[bucket]) bucket++;
    this.buckets[bucket]++;
    this.seconds += seconds;
    this.calls++;
  }
}

/**
 * The histogram as prom-client formats it, read from {@link RpcSeries} at scrape time instead
 * of from prom-client's own per-label-set storage.
 */
class SeriesHistogram extends Histogram<SeriesLabel | "le"> {
  constructor(
    private readonly metricName: string,
    private readonly metricHelp: string,
    private readonly allSeries: () => Iterable<RpcSeries>,
  ) {
    super({
      name: metricName,
      help: metricHelp,
      labelNames: ["service", "method", "protocol"],
      registers: [],
    });
  }

  /** What the registry reads when it renders the text format (prom-client calls it by this name). */
  async getForPromString() {
    return this.get();
  }

  override async get() {
    const values: MetricValueWithName<SeriesLabel | "le">[] = [];
    for (const series of this.allSeries()) {
      let cumulative = 0;
      for (let bucket = 0; bucket < handlingBuckets.length; bucket++) {
        cumulative += series.buckets[bucket];
        values.push({
          metricName: `${this.metricName}_bucket`,
          labels: { ...series.labels, le: handlingBuckets[bucket] },
          value: cumulative,
        });
      }
      values.push(
        {
          metricName: `${this.metricName}_bucket`,
          labels: { ...series.labels, le: "+Inf" },
          value: series.calls,
        },
        { metricName: `${this.metricName}_sum`, labels: series.labels, value: series.seconds },
        { metricName: `${this.metricName}_count`, labels: series.labels, value: series.calls },
      );
    }
    return {
      name: this.metricName,
      help: this.metricHelp,
      // prom-client's typings declare a numeric enum; at run time (and in its own metrics) the type is this string.
      type: "histogram" as unknown as MetricType,
      aggregator: "sum" as const,
      collect: () => undefined,
      values,
    };
  }
}

/**
 * The server's Prometheus registry: process metrics plus the per-RPC metrics the observe
 * interceptor feeds (grpc_server_handled_total, grpc_server_handling_seconds,
 * grpc_server_in_flight, grpc_server_open_streams).
 */
export class RpcMetrics {
  readonly registry: Registry;
  /** service -> method -> protocol -> series; three lookups, no key strings built per call. */
  private readonly byService = new Map<string, Map<string, Map<string, RpcSeries>>>();
  private readonly all: RpcSeries[] = [];

  constructor(options: { registry?: Registry; processMetrics?: boolean } = {}) {
    this.registry = options.registry ?? new Registry();
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const all = this.all;
    const labelNames = ["service", "method", "protocol"] as const;
    new Counter({
      name: "grpc_server_handled_total",
      help: "RPCs completed on the server, by status code.",
      labelNames: [...labelNames, "code"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const series of all) {
          series.handled.forEach((count, code) => {
            if (count > 0) this.inc({ ...series.labels, code: codeNames[code] }, count);
          });
        }
      },
    });
    new Gauge({
      name: "grpc_server_in_flight",
      help: "RPCs started and not yet finished.",
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const series of all) this.set(series.labels, series.inFlight);
      },
    });
    new Gauge({
      name: "grpc_server_open_streams",
      help: "Streaming RPCs (client, server or bidirectional) currently open.",
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const series of all) this.set(series.labels, series.openStreams);
      },
    });
    this.registry.registerMetric(
      new SeriesHistogram(
        "grpc_server_handling_seconds",
        "Time from the start of an RPC to its last message or error, in seconds.",
        () => all,
      ),
    );
  }

  /** The series of one (service, method, protocol), created on first use. */
  series(service: string, method: string, protocol: string): RpcSeries {
    let methods = this.byService.get(service);
    if (methods === undefined) {
      methods = new Map();
      this.byService.set(service, methods);
    }
    let protocols = methods.get(method);
    if (protocols === undefined) {
      protocols = new Map();
      methods.set(method, protocols);
    }
    let series = protocols.get(protocol);
    if (series === undefined) {
      series = new RpcSeries({ service, method, protocol });
      protocols.set(protocol, series);
      this.all.push(series);
    }
    return series;
  }

  /** The exposition text for `/metrics`, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
