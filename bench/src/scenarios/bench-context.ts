/** How hard and how long each closed-loop run pushes. */
export interface LoadShape {
  h2cConnections: number;
  h2cStreamsPerConnection: number;
  http1Connections: number;
  durationSeconds: number;
  warmUpSeconds: number;
  /**
   * A fixed number of requests per case instead of the measured duration: the smoke run's, so
   * that it checks the shape of a run on a machine of any speed (a slow one would complete
   * nothing inside a short window).
   */
  requestCount?: number;
  /**
   * The warm-up pass before a server's first measured case: each unary case it is measured on
   * runs this long (or this many requests), unmeasured, so that no measured case meets code
   * the JIT has not compiled yet.
   */
  serverWarmUp: { seconds: number } | { requestCount: number };
}

/** How long a case runs: a request count when the shape has one, else warm-up and duration. */
export function loadWindow(
  shape: LoadShape,
): { requestCount: number } | { durationSeconds: number; warmUpSeconds: number } {
  return shape.requestCount !== undefined
    ? { requestCount: shape.requestCount }
    : { durationSeconds: shape.durationSeconds, warmUpSeconds: shape.warmUpSeconds };
}

/** The warm-up pass in words, for the report's method notes. */
export function describeServerWarmUp(shape: LoadShape): string {
  const each =
    "seconds" in shape.serverWarmUp
      ? `${shape.serverWarmUp.seconds} s`
      : `${shape.serverWarmUp.requestCount} requests`;
  return `before a server's first measured case, every unary case it is measured on runs for ${each}, unmeasured and with the same load, so that no measured case runs on a cold process (the same for every server)`;
}

/** What every scenario gets from the run. */
export interface BenchContext {
  /** The h2load executable, or undefined to use the built-in generator. */
  h2load: string | undefined;
  shape: LoadShape;
  /** Only these unary cases ("Health/Check:grpc"), when set (`--cases`). */
  cases?: ReadonlySet<string>;
  /** Prints one line of progress. */
  progress(line: string): void;
}
