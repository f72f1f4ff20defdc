import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { EngineChoice } from "./load/run-load.js";
import { defaultResultsDir } from "./paths.js";
import type { LoadShape } from "./scenarios/bench-context.js";
import type { FanoutShape } from "./scenarios/fanout-scenario.js";

/** The parts of a run; each can be left out with --only. */
export const benchParts = [
  "peers",
  "grouppe",
  "stock",
  "postgres",
  "fanout",
  "idle",
  "startup",
  "profile",
  "import",
] as const;

/** One part of a run. */
export type BenchPart = (typeof benchParts)[number];

/** Everything a run is told. */
export interface BenchOptions {
  mode: "quick" | "full" | "smoke";
  engine: EngineChoice;
  outDir: string;
  /** The PostgreSQL server to make a throwaway database on. */
  postgresAdminUrl: string;
  parts: Set<BenchPart>;
  shape: LoadShape;
  /** Fan-out cases, in order; the first is the one every server runs and the reports compare. */
  fanout: FanoutShape[];
  idleConnections: number;
  restarts: number;
  /** How long each start-up run idles before its resident memory is read. */
  startupIdleMs: number;
  /** Users doing JoinEvent/LeaveEvent in the write scenario (a multiple of 4). */
  writers: number;
  /** Only these unary cases, as "Method:protocol" (`--cases`); all when unset. */
  cases?: Set<string>;
  /** Rows of the generated CSV file the import part imports. */
  importRows: number;
  /**
   * A checkout (its root, built) whose grouppe runs too, labelled "grouppe (baseline)", after
   * this one's and with the same cases: before and after in one run (`--baseline DIR`).
   */
  baseline?: string;
  /** Fewer cases: one per protocol family, for the smoke test. */
  reducedMatrix: boolean;
}

const h2c = { h2cConnections: 16, h2cStreamsPerConnection: 64, http1Connections: 64 };

/** The settings of each mode before flags change them. */
export function presetOptions(mode: BenchOptions["mode"]): BenchOptions {
  const base = {
    mode,
    engine: "auto" as const,
    outDir: defaultResultsDir,
    postgresAdminUrl:
      process.env.GROUPPE_BENCH_DATABASE_URL ??
      process.env.GROUPPE_TEST_DATABASE_URL ??
      "postgres://postgres@127.0.0.1:5432/test",
  };
  switch (mode) {
    case "full":
      return {
        ...base,
        parts: new Set(benchParts),
        // Five rounds of 2 s (after 0.5 s unmeasured) per case and server: about the time of
        // one 10 s run each, with five paired comparisons instead of one (see unary-rounds.ts).
        shape: {
          ...h2c,
          rounds: 5,
          settleMaxMs: 3_000,
          durationSeconds: 2,
          warmUpSeconds: 0.5,
          serverWarmUp: { seconds: 1.5 },
        },
        fanout: [
          { watchers: 1_000, streamsPerSession: 50, writers: 4, durationSeconds: 15 },
          // 200 sessions: each process may hold 20,000 files, so 10,000 streams share sessions.
          { watchers: 10_000, streamsPerSession: 50, writers: 4, durationSeconds: 15 },
        ],
        idleConnections: 10_000,
        restarts: 5,
        startupIdleMs: 3_000,
        writers: 32,
        importRows: 10_000,
        reducedMatrix: false,
      };
    case "quick":
      return {
        ...base,
        parts: new Set(benchParts.filter((part) => part !== "postgres")),
        // 256 streams in flight instead of 1,024: in 1.5 s a slow server completes few rounds of
        // 1,024, and throughput would move in steps of a whole round.
        shape: {
          ...h2c,
          h2cStreamsPerConnection: 16,
          rounds: 1,
          settleMaxMs: 3_000,
          durationSeconds: 1.5,
          warmUpSeconds: 0.3,
          serverWarmUp: { seconds: 0.5 },
        },
        fanout: [{ watchers: 1_000, streamsPerSession: 50, writers: 4, durationSeconds: 4 }],
        idleConnections: 10_000,
        restarts: 2,
        startupIdleMs: 3_000,
        writers: 16,
        importRows: 10_000,
        reducedMatrix: false,
      };
    case "smoke":
      return {
        ...base,
        engine: "node",
        parts: new Set(["peers", "grouppe", "fanout", "idle", "startup"]),
        shape: {
          h2cConnections: 2,
          h2cStreamsPerConnection: 4,
          http1Connections: 4,
          rounds: 2,
          settleMaxMs: 0,
          durationSeconds: 0.3,
          warmUpSeconds: 0.1,
          requestCount: 40,
          serverWarmUp: { requestCount: 20 },
        },
        fanout: [{ watchers: 20, streamsPerSession: 10, writers: 2, durationSeconds: 1 }],
        idleConnections: 50,
        restarts: 1,
        startupIdleMs: 0,
        writers: 4,
        importRows: 100,
        reducedMatrix: true,
      };
  }
}

const usage = `Usage: npm run bench -- [--quick] [--engine auto|h2load|node] [--out DIR]
                        [--postgres | --no-postgres] [--database-url URL] [--only PART,...]
                        [--cases METHOD:PROTOCOL,...] [--baseline DIR] [--rounds N]
Parts: ${benchParts.join(", ")}; "stock" is grouppe with GROUPPE_ENGINE=connect (connect-es
for every call), for comparison in the same run. --cases limits the unary cases, e.g.
Health/Check:grpc,GetEvent:connect-json. --baseline DIR also runs grouppe from another built
checkout (its root) with the same cases and fan-out, as "grouppe (baseline)". --rounds N
runs every unary case N times on each server, servers taking turns (full run: 5, quick: 1).
--quick finishes in under 2 minutes (no PostgreSQL unless
--postgres); the full run takes under 15.`;

/** Reads the command line; throws with the usage text on a bad flag. */
export function parseBenchArgs(argv: string[]): BenchOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      engine: { type: "string", default: "auto" },
      out: { type: "string" },
      postgres: { type: "boolean" },
      "no-postgres": { type: "boolean" },
      "database-url": { type: "string" },
      only: { type: "string" },
      cases: { type: "string" },
      baseline: { type: "string" },
      rounds: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) return "help";
  const options = presetOptions(values.quick ? "quick" : "full");
  if (!["auto", "h2load", "node"].includes(values.engine))
    throw new Error(`--engine must be auto, h2load or node\n${usage}`);
  options.engine = values.engine as EngineChoice;
  if (values.out) options.outDir = values.out;
  if (values["database-url"]) options.postgresAdminUrl = values["database-url"];
  if (values.only) {
    const parts = values.only.split(",").map((part) => part.trim());
    const unknown = parts.filter((part) => !(benchParts as readonly string[]).includes(part));
    if (unknown.length) throw new Error(`unknown part(s) ${unknown.join(", ")}\n${usage}`);
    options.parts = new Set(parts as BenchPart[]);
  }
  if (values.cases) {
    options.cases = new Set(values.cases.split(",").map((unaryCase) => unaryCase.trim()));
  }
  if (values.baseline) options.baseline = resolve(values.baseline);
  if (values.rounds !== undefined) {
    const rounds = Number(values.rounds);
    if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20)
      throw new Error(`--rounds must be a whole number from 1 to 20\n${usage}`);
    options.shape.rounds = rounds;
  }
  if (values.postgres) options.parts.add("postgres");
  if (values["no-postgres"]) options.parts.delete("postgres");
  return options;
}

/** The usage text. */
export const benchUsage = usage;
