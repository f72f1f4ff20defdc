/** How hard and how long each closed-loop run pushes. */
export interface LoadShape {
  h2cConnections: number;
  h2cStreamsPerConnection: number;
  http1Connections: number;
  durationSeconds: number;
  warmUpSeconds: number;
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
