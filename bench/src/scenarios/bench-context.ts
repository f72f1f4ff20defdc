/** How hard and how long each closed-loop run pushes. */
export interface LoadShape {
  h2cConnections: number;
  h2cStreamsPerConnection: number;
  http1Connections: number;
  durationSeconds: number;
  warmUpSeconds: number;
  /**
   * How many times each unary case runs on each server, servers taking turns (see
   * unary-rounds.ts); the report gives the median round and ratios the median per round.
   */
  rounds: number;
  /**
   * How long a server just loaded may take to go quiet before the next run starts (see
   * unary-rounds.ts); 0 does not wait (the smoke run, whose loads are a few dozen calls).
   */
  settleMaxMs: number;
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

/** How the unary cases are measured, for the report's method notes. */
export function describeRounds(shape: LoadShape): string {
  const each =
    shape.requestCount !== undefined
      ? `${shape.requestCount} requests`
      : `${shape.durationSeconds} s after ${shape.warmUpSeconds} s unmeasured`;
  if (shape.rounds === 1) return `each case runs once on each server (${each})`;
  return `${shape.rounds} rounds of ${each}; in each round a case runs on every server that has it, one right after the other, in reverse order every other round. A row gives the median round (req/s of every round in the last column), and a ratio in Targets is the median of the ratios round by round, so that the machine's drift during the run cancels out`;
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
