import { type RunningGrouppe, startGrouppe } from "../grouppe/grouppe-process.js";
import { seedGrouppe } from "../grouppe/seed-grouppe.js";
import type { FanoutRow, ServerName, Storage, ThroughputRow } from "../report/report-types.js";
import type { BenchContext } from "./bench-context.js";
import { type FanoutShape, runFanoutScenario } from "./fanout-scenario.js";
import type { TargetCases } from "./unary-rounds.js";
import { type UnaryCase, unaryCases } from "./unary-scenario.js";
import { runWriteScenario } from "./write-scenario.js";

/** What to run against one grouppe instance. */
export interface GrouppePlan {
  storage: Exclude<Storage, "memory">;
  databaseUrl?: string;
  /** PGlite's data directory, kept after the run so later parts restart on it. */
  dataDir?: string;
  cases: UnaryCase[];
  writers: number;
  /** Fan-out cases to run, in order; none when empty or unset. */
  fanout?: FanoutShape[];
  /** How the rows are labelled; "grouppe" by default. */
  server?: ServerName;
  /** Extra server environment (GROUPPE_ENGINE=connect for the stock row). */
  env?: Record<string, string>;
  /** Another checkout's apps/server to start instead of this one (`--baseline`). */
  serverRoot?: string;
  /** Whether to run the JoinEvent/LeaveEvent writes (default true). */
  writes?: boolean;
}

/** Every read case: Health/Check and GetEvent over all four protocols, ListEvents (lighter load) over two. */
export function fullGrouppeCases(): UnaryCase[] {
  return [
    ...unaryCases(
      ["Health/Check", "GetEvent"],
      ["grpc", "connect-proto", "connect-json", "grpc-web"],
    ),
    ...unaryCases(["ListEvents"], ["grpc", "connect-json"]).map((unaryCase) => ({
      ...unaryCase,
      light: true,
    })),
  ];
}

/** A grouppe instance, started and seeded, for its unary cases and then the rest of its plan. */
export interface OpenGrouppe {
  /** The server with the unary cases of its plan, for the rounds every server takes part in. */
  unary: TargetCases;
  startupMs: number;
  /** Runs the JoinEvent/LeaveEvent writes (unless the plan leaves them out) and the fan-out. */
  runWritesAndFanout(): Promise<{ throughput: ThroughputRow[]; fanout: FanoutRow[] }>;
  stop(): Promise<void>;
}

/** Starts grouppe on `plan.storage` and seeds it through its API. */
export async function openGrouppe(plan: GrouppePlan, context: BenchContext): Promise<OpenGrouppe> {
  const fanout = plan.fanout ?? [];
  const grouppe: RunningGrouppe = await startGrouppe({
    databaseUrl: plan.databaseUrl,
    dataDir: plan.dataDir,
    env: plan.env,
    serverRoot: plan.serverRoot,
  });
  try {
    const server = plan.server ?? "grouppe";
    context.progress(`${server}/${plan.storage} ready in ${Math.round(grouppe.startupMs)} ms`);
    const seeded = await seedGrouppe(grouppe.url, {
      events: 24,
      writers: plan.writers,
      fanoutUsers: fanout.length ? Math.max(8, ...fanout.map((shape) => shape.writers * 4)) : 0,
    });
    const target = {
      server,
      storage: plan.storage,
      h2cUrl: grouppe.url,
      http1Url: grouppe.url,
      eventId: seeded.eventIds[0] ?? "",
      pid: grouppe.pid,
    };
    return {
      unary: { target, cases: plan.cases },
      startupMs: grouppe.startupMs,
      async runWritesAndFanout() {
        const throughput: ThroughputRow[] = [];
        if (plan.writes !== false) {
          throughput.push(await runWriteScenario(grouppe.url, plan.storage, seeded, context));
        }
        const fanoutRows: FanoutRow[] = [];
        for (const shape of fanout) {
          fanoutRows.push(
            await runFanoutScenario(grouppe.url, plan.storage, seeded, shape, context, {
              name: server,
              pid: grouppe.pid,
            }),
          );
        }
        return { throughput, fanout: fanoutRows };
      },
      stop: async () => void (await grouppe.stop()),
    };
  } catch (error) {
    await grouppe.stop();
    throw error;
  }
}
