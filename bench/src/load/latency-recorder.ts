import { createHistogram, type RecordableHistogram } from "node:perf_hooks";
import type { LatencySummary } from "./load-spec.js";

/** Collects latencies in nanoseconds into an HDR-style histogram and summarises them in µs. */
export class LatencyRecorder {
  private readonly histogram: RecordableHistogram = createHistogram({
    lowest: 1,
    highest: 3.6e12,
    figures: 3,
  });

  /** Records one latency in nanoseconds. */
  recordNanos(nanos: number): void {
    this.histogram.record(Math.max(1, Math.round(nanos)));
  }

  /** Records one latency in microseconds. */
  recordMicros(micros: number): void {
    this.recordNanos(micros * 1_000);
  }

  /** How many latencies were recorded. */
  get count(): number {
    return this.histogram.count;
  }

  /** p50/p90/p99/max/mean in microseconds; zeros when nothing was recorded. */
  summary(): LatencySummary {
    if (this.histogram.count === 0) return { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
    const micros = (nanos: number) => Math.round(nanos / 10) / 100;
    return {
      p50: micros(this.histogram.percentile(50)),
      p90: micros(this.histogram.percentile(90)),
      p99: micros(this.histogram.percentile(99)),
      max: micros(this.histogram.max),
      mean: micros(this.histogram.mean),
    };
  }
}
