import type { LatencySummary, LoadResult, Protocol, Transport } from "../load/load-spec.js";

/** The servers under test: grouppe and the peers it is compared with. */
export type ServerName =
  | "grouppe"
  | typeof stockGrouppe
  | typeof baselineGrouppe
  | "connect-fastify"
  | "grpc-js"
  | "bare-http2";

/** grouppe with its engine turned off (`GROUPPE_ENGINE=connect`): connect-es serves every call. */
export const stockGrouppe = "grouppe (GROUPPE_ENGINE=connect)";

/** grouppe built from another checkout (`--baseline DIR`): the before of a before/after. */
export const baselineGrouppe = "grouppe (baseline)";

/** grouppe's storage in a run; peers serve from memory. */
export type Storage = "memory" | "pglite" | "postgres";

/** One closed-loop load run against one server, method and protocol. */
export interface ThroughputRow {
  server: ServerName;
  storage: Storage;
  method: string;
  protocol: Protocol;
  transport: Transport;
  /** e.g. "16 conns x 64 streams" */
  concurrency: string;
  /** The median round's run; its errors are those of every round together. */
  result: LoadResult;
  /** Req/s of each round, in the order they ran (older reports lack it). */
  roundsRequestsPerSecond?: number[];
}

/** One WatchEvent fan-out run: many watchers on one event while its attendance changes. */
export interface FanoutRow {
  /** grouppe, or grouppe with GROUPPE_ENGINE=connect. */
  server: ServerName;
  storage: Storage;
  watchers: number;
  sessions: number;
  /** Watchers whose stream opened and delivered the snapshot. */
  watching: number;
  writes: number;
  writesPerSecond: number;
  writeErrors: Record<string, number>;
  /** Attendance messages received by all watchers together. */
  messages: number;
  messagesPerSecond: number;
  /**
   * The server's CPU time (all its threads) from the first write to the last delivery, per
   * 1,000 messages delivered: what a message costs, whatever the machine's speed that moment.
   */
  serverCpuMsPerThousand?: number;
  /** Fewest and most attendance messages one watcher got. */
  perWatcher: { min: number; max: number };
  /** From sending the JoinEvent/LeaveEvent to arrival: an upper bound of commit-to-arrival. */
  latencyFromSendUs: LatencySummary;
  /** From the write's response to arrival (negative values count as 0): a lower bound. */
  latencyFromAckUs: LatencySummary;
  /** Streams that ended early, by code. */
  streamErrors: Record<string, number>;
}

/** Server memory held by idle HTTP/2 connections. */
export interface IdleConnectionsRow {
  storage: Storage;
  target: number;
  opened: number;
  failed: Record<string, number>;
  rssBeforeKib: number;
  rssAfterKib: number;
  perConnectionKib: number;
}

/** Start-up time: spawning `node dist/main.js` until /readyz answers 200. */
export interface StartupRow {
  storage: Storage;
  kind: "first start" | "restart";
  millis: number[];
  medianMs: number;
  /** Resident set size once started and left idle, median of the runs (MiB). */
  idleRssMib?: number;
  /** The highest resident set size while starting and idling, median of the runs (MiB). */
  peakRssMib?: number;
}

/** `grouppe import` of a generated CSV file, timed from spawning the CLI to its summary. */
export interface ImportRow {
  storage: Storage;
  /** "first import" creates every event; "re-import" finds every key present. */
  kind: "first import" | "re-import";
  rows: number;
  created: number;
  alreadyPresent: number;
  seconds: number;
  eventsPerSecond: number;
}

/** One frame of the CPU profile, by self time. */
export interface ProfileFrame {
  functionName: string;
  location: string;
  selfMs: number;
  selfPercent: number;
}

/** Where grouppe's gRPC unary path spends CPU. */
export interface ProfileSummary {
  workload: string;
  sampledMs: number;
  /** Share of samples in which the process was idle. */
  idlePercent: number;
  frames: ProfileFrame[];
}

/** A figure checked against its target. */
export interface RatioCheck {
  name: string;
  value: number | undefined;
  target: number;
  comparison: ">=" | "<=";
  unit: string;
  met: boolean | undefined;
  /** How far from the target, in words, when missed or not measured. */
  verdict: string;
}

/** Everything one bench run measured; written as latest.json and rendered as latest.md. */
export interface BenchReport {
  mode: "quick" | "full" | "smoke";
  startedAt: string;
  finishedAt: string;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGib: number;
    node: string;
    platform: string;
    loadAverage: number[];
  };
  loadGenerator: string;
  /** How each server is warmed up before its first measured case (older reports lack it). */
  serverWarmUp?: string;
  /** How the unary cases were measured: rounds, durations (older reports lack it). */
  unaryMethod?: string;
  serverEnv: Record<string, string>;
  throughput: ThroughputRow[];
  fanout: FanoutRow[];
  idleConnections: IdleConnectionsRow[];
  startup: StartupRow[];
  imports: ImportRow[];
  profile?: ProfileSummary;
  ratios: RatioCheck[];
  /** Parts skipped or failed, and why. */
  notes: string[];
}
