import { type RunningGrouppe, startGrouppe } from "../grouppe/grouppe-process.js";
import { seedGrouppe } from "../grouppe/seed-grouppe.js";
import type { FanoutRow, ServerName, Storage, ThroughputRow } from "../report/report-types.js";
import type { BenchContext } from "./bench-context.js";
import { type FanoutShape, runFanoutScenario } from "./fanout-scenario.js";
import { runUnaryCases, type UnaryCase, unaryCases } from "./unary-scenario.js";
import { runWriteScenario } from "./write-scenario.js";

/** What to run against one grouppe instance. */
export interface GrouppeSuitePlan {
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

/** What one grouppe instance measured. */
export interface GrouppeSuiteResult {
  startupMs: number;
  /** The event GetEvent read. */
  eventId: string;
  throughput: ThroughputRow[];
  fanout: FanoutRow[];
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

/**
 * Starts grouppe on `plan.storage`, seeds it through its API, and runs the unary cases, the
 * JoinEvent/LeaveEvent writes and the fan-out against it.
 */
export async function runGrouppeSuite(
  plan: GrouppeSuitePlan,
  context: BenchContext,
): Promise<GrouppeSuiteResult> {
  const fanout = plan.fanout ?? [];
  const grouppe: RunningGrouppe = await startGrouppe({
    databaseUrl: plan.databaseUrl,
    dataDir: plan.dataDir,
    env: plan.env,
    serverRoot: plan.serverRoot,
  });
  try {
    context.progress(
      `${plan.server ?? "grouppe"}/${plan.storage} ready in ${Math.round(grouppe.startupMs)} ms`,
    );
    const seeded = await seedGrouppe(grouppe.url, {
      events: 24,
      writers: plan.writers,
      fanoutUsers: fanout.length ? Math.max(8, ...fanout.map((shape) => shape.writers * 4)) : 0,
    });
    const server = plan.server ?? "grouppe";
    const target = {
      server,
      storage: plan.storage,
      h2cUrl: grouppe.url,
      http1Url: grouppe.url,
      eventId: seeded.eventIds[0] ?? "",
    };
    const throughput = await runUnaryCases(target, plan.cases, context);
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
    return {
      startupMs: grouppe.startupMs,
      eventId: target.eventId,
      throughput,
      fanout: fanoutRows,
    };
  } finally {
    await grouppe.stop();
  }
}
