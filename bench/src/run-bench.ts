import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, platform, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import type { BenchOptions } from "./bench-options.js";
import { benchServerEnv, grouppeBuilt, startGrouppe } from "./grouppe/grouppe-process.js";
import { createThrowawayDatabase, type ThrowawayDatabase } from "./grouppe/throwaway-database.js";
import { resolveH2load, runNodeLoad } from "./load/run-load.js";
import { computeRatios } from "./report/ratios.js";
import {
  type BenchReport,
  baselineGrouppe,
  stockGrouppe,
  type ThroughputRow,
} from "./report/report-types.js";
import {
  type BenchContext,
  describeRounds,
  describeServerWarmUp,
} from "./scenarios/bench-context.js";
import { runCpuProfileScenario } from "./scenarios/cpu-profile-scenario.js";
import { runIdleConnectionsScenario } from "./scenarios/idle-connections-scenario.js";
import { runImportScenario } from "./scenarios/import-scenario.js";
import {
  fullGrouppeCases,
  type GrouppePlan,
  type OpenGrouppe,
  openGrouppe,
} from "./scenarios/open-grouppe.js";
import { type OpenPeers, openPeers } from "./scenarios/open-peers.js";
import { runStartupScenario, startupRow } from "./scenarios/startup-scenario.js";
import { runUnaryRounds } from "./scenarios/unary-rounds.js";
import { unaryCases, unarySpec } from "./scenarios/unary-scenario.js";

/** The prefix of notes that report a part that failed; the CLI exits 1 when there are any. */
export const failurePrefix = "FAILED";

function machine(): BenchReport["machine"] {
  const [cpu] = cpus();
  return {
    cpus: cpus().length,
    cpuModel: cpu?.model.trim() ?? "unknown",
    memoryGib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${platform()} ${release()}`,
    loadAverage: loadavg(),
  };
}

/** The rows of each server together, servers in the order they first appear (writes came last). */
function groupedByServer(rows: ThroughputRow[]): ThroughputRow[] {
  const servers = [...new Set(rows.map((row) => row.server))];
  return servers.flatMap((server) => rows.filter((row) => row.server === server));
}

/**
 * Runs the parts `options` names and returns the report. A part that fails is recorded in
 * the notes and the run goes on with the next one.
 */
export async function runBench(
  options: BenchOptions,
  progress: (line: string) => void,
): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const report: Omit<BenchReport, "ratios" | "finishedAt"> = {
    mode: options.mode,
    startedAt,
    machine: machine(),
    loadGenerator: "",
    serverWarmUp: describeServerWarmUp(options.shape),
    unaryMethod: describeRounds(options.shape),
    serverEnv: benchServerEnv,
    throughput: [],
    fanout: [],
    idleConnections: [],
    startup: [],
    imports: [],
    notes: [],
  };
  const h2load = await resolveH2load(options.engine);
  report.loadGenerator = h2load
    ? `h2load -t 1 (${h2load}) for fixed requests, the built-in Node generator for writes and streams`
    : "the built-in Node generator (node:http2 and node:http keep-alive)";
  const context: BenchContext = { h2load, shape: options.shape, cases: options.cases, progress };
  const part = async (name: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      report.notes.push(
        `${failurePrefix}: ${name}: ${message.split("\n").slice(0, 6).join(" / ")}`,
      );
      progress(`${name} failed: ${message}`);
    }
  };
  const { parts } = options;

  let peers: OpenPeers | undefined;
  if (parts.has("peers"))
    await part("peers", async () => {
      peers = await openPeers(options.reducedMatrix);
    });

  const wantsGrouppe = [
    "grouppe",
    "stock",
    "postgres",
    "fanout",
    "idle",
    "startup",
    "profile",
    "import",
  ].some((name) => parts.has(name as never));
  // Every server of the unary cases runs at once, so that the rounds can take turns on them;
  // each grouppe then does its writes and fan-out on its own and stops.
  const instances: { name: string; instance: OpenGrouppe; close?: () => Promise<void> }[] = [];
  const dataDir = await mkdtemp(join(tmpdir(), "grouppe-bench-"));
  let eventId: string | undefined;
  try {
    if (wantsGrouppe && !grouppeBuilt()) {
      report.notes.push(
        "grouppe is not built (apps/server/dist/main.js missing): its parts were skipped",
      );
    } else if (wantsGrouppe) {
      const cases = options.reducedMatrix
        ? [...unaryCases(["Health/Check"], ["grpc"]), ...unaryCases(["GetEvent"], ["connect-json"])]
        : fullGrouppeCases();
      const fanout = parts.has("fanout") ? options.fanout : [];
      // The other servers run the first fan-out case only: the one the report compares.
      const comparedFanout = fanout.slice(0, 1);
      const open = async (name: string, plan: GrouppePlan, close?: () => Promise<void>) => {
        let opened: OpenGrouppe | undefined;
        await part(name, async () => {
          try {
            opened = await openGrouppe(plan, context);
          } catch (error) {
            await close?.();
            throw error;
          }
          instances.push({ name, instance: opened, close });
        });
        return opened;
      };
      if (parts.has("grouppe") || parts.has("fanout")) {
        // `--only fanout` runs the fan-out alone, without the unary cases and writes.
        const unary = parts.has("grouppe");
        // One PGlite directory for the run: the first start (migrations) happens once, and
        // the later parts restart on the seeded data like an operator's restart would.
        const main = await open(unary ? "grouppe on PGlite" : "grouppe fan-out on PGlite", {
          storage: "pglite",
          dataDir,
          cases: unary ? cases : [],
          writers: options.writers,
          fanout,
          writes: unary,
        });
        eventId = main?.unary.target.eventId;
      }
      const baseline = options.baseline;
      if (baseline !== undefined && (parts.has("grouppe") || parts.has("fanout"))) {
        // The same cases (and the compared fan-out) against another checkout's build.
        await open("grouppe baseline", {
          storage: "pglite",
          cases: parts.has("grouppe") ? cases : [],
          writers: options.writers,
          fanout: comparedFanout,
          server: baselineGrouppe,
          serverRoot: join(baseline, "apps/server"),
          writes: false,
        });
      }
      if (parts.has("stock")) {
        // The same server with its engine off, in the same run: what the engine gains.
        await open("grouppe with GROUPPE_ENGINE=connect", {
          storage: "pglite",
          cases: unaryCases(
            ["Health/Check", "GetEvent"],
            ["grpc", "connect-proto", "connect-json", "grpc-web"],
          ),
          writers: options.writers,
          fanout: comparedFanout,
          server: stockGrouppe,
          env: { GROUPPE_ENGINE: "connect" },
          writes: false,
        });
      }
      if (parts.has("postgres")) {
        let database: ThrowawayDatabase | undefined;
        await part("PostgreSQL database", async () => {
          const created = await createThrowawayDatabase(options.postgresAdminUrl);
          if ("unavailable" in created)
            report.notes.push(`PostgreSQL part skipped: ${created.unavailable}`);
          else database = created.database;
        });
        const postgres =
          database &&
          (await open(
            "grouppe on PostgreSQL",
            {
              storage: "postgres",
              databaseUrl: database.url,
              cases: [
                ...unaryCases(["Health/Check", "GetEvent"], ["grpc"]),
                ...unaryCases(["GetEvent"], ["connect-json"]),
                { method: "ListEvents", protocol: "grpc", light: true },
              ],
              writers: options.writers,
              fanout: comparedFanout,
            },
            database.drop,
          ));
        if (postgres)
          report.startup.push(startupRow("postgres", "first start", [postgres.startupMs]));
      }
    }

    const targets = [...(peers?.targets ?? []), ...instances.map(({ instance }) => instance.unary)];
    if (targets.some((target) => target.cases.length > 0))
      await part("unary cases", async () => {
        report.throughput.push(...(await runUnaryRounds(targets, context)));
      });
    await peers?.stop();
    peers = undefined;
    while (instances.length > 0) {
      const { name, instance, close } = instances.shift() as (typeof instances)[number];
      await part(name, async () => {
        try {
          const result = await instance.runWritesAndFanout();
          report.throughput.push(...result.throughput);
          report.fanout.push(...result.fanout);
        } finally {
          await instance.stop();
          await close?.();
        }
      });
    }

    if (wantsGrouppe && grouppeBuilt()) {
      if (parts.has("idle")) {
        await part("idle connections", async () => {
          const grouppe = await startGrouppe({ dataDir });
          try {
            // Warm every code path a connection touches before the "before" reading.
            const target = {
              server: "grouppe" as const,
              storage: "pglite" as const,
              h2cUrl: grouppe.url,
              http1Url: grouppe.url,
              eventId: "",
            };
            for (const protocol of ["grpc", "connect-json"] as const) {
              const spec = unarySpec(target, { method: "Health/Check", protocol }, context);
              await runNodeLoad({
                ...spec,
                connections: 4,
                streamsPerConnection: 1,
                requestCount: 200,
                durationSeconds: undefined,
                warmUpSeconds: undefined,
              });
            }
            report.idleConnections.push(
              await runIdleConnectionsScenario(
                grouppe.url,
                grouppe.pid,
                "pglite",
                options.idleConnections,
                context,
              ),
            );
          } finally {
            await grouppe.stop();
          }
        });
      }
      if (parts.has("startup")) {
        await part("start-up", async () => {
          report.startup.unshift(
            ...(await runStartupScenario(
              dataDir,
              options.restarts,
              options.startupIdleMs,
              context,
            )),
          );
        });
      }
      if (parts.has("profile")) {
        await part("CPU profile", async () => {
          report.profile = await runCpuProfileScenario(context, dataDir, eventId);
        });
      }
      if (parts.has("import")) {
        await part("import", async () => {
          report.imports.push(...(await runImportScenario(context, options.importRows)));
        });
      }
    }
  } finally {
    // A part that failed before its turn leaves servers and databases behind otherwise.
    await peers?.stop();
    for (const { instance, close } of instances) {
      await instance.stop().catch(() => {});
      await close?.().catch(() => {});
    }
    await rm(dataDir, { recursive: true, force: true });
  }

  const finished = {
    ...report,
    throughput: groupedByServer(report.throughput),
    finishedAt: new Date().toISOString(),
  };
  return { ...finished, ratios: computeRatios(finished) };
}
