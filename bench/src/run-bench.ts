import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, platform, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import type { BenchOptions } from "./bench-options.js";
import { benchServerEnv, grouppeBuilt, startGrouppe } from "./grouppe/grouppe-process.js";
import { createThrowawayDatabase } from "./grouppe/throwaway-database.js";
import { resolveH2load, runNodeLoad } from "./load/run-load.js";
import { computeRatios } from "./report/ratios.js";
import { type BenchReport, baselineGrouppe, stockGrouppe } from "./report/report-types.js";
import { type BenchContext, describeServerWarmUp } from "./scenarios/bench-context.js";
import { runCpuProfileScenario } from "./scenarios/cpu-profile-scenario.js";
import { fullGrouppeCases, runGrouppeSuite } from "./scenarios/grouppe-suite.js";
import { runIdleConnectionsScenario } from "./scenarios/idle-connections-scenario.js";
import { runImportScenario } from "./scenarios/import-scenario.js";
import { runPeerSuite } from "./scenarios/peer-suite.js";
import { runStartupScenario, startupRow } from "./scenarios/startup-scenario.js";
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

  if (parts.has("peers"))
    await part(
      "peers",
      async () =>
        void report.throughput.push(...(await runPeerSuite(context, options.reducedMatrix))),
    );

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
  if (wantsGrouppe && !grouppeBuilt()) {
    report.notes.push(
      "grouppe is not built (apps/server/dist/main.js missing): its parts were skipped",
    );
  } else if (wantsGrouppe) {
    // One PGlite directory for the run: the first start (migrations) happens once, and the
    // later parts restart on the seeded data like an operator's restart would.
    const dataDir = await mkdtemp(join(tmpdir(), "grouppe-bench-"));
    let eventId: string | undefined;
    const cases = options.reducedMatrix
      ? [...unaryCases(["Health/Check"], ["grpc"]), ...unaryCases(["GetEvent"], ["connect-json"])]
      : fullGrouppeCases();
    const fanout = parts.has("fanout") ? options.fanout : [];
    // The other servers run the first fan-out case only: the one the report compares.
    const comparedFanout = fanout.slice(0, 1);
    if (parts.has("grouppe") || parts.has("fanout")) {
      // `--only fanout` runs the fan-out alone, without the unary cases and writes.
      const unary = parts.has("grouppe");
      await part(unary ? "grouppe on PGlite" : "grouppe fan-out on PGlite", async () => {
        const result = await runGrouppeSuite(
          {
            storage: "pglite",
            dataDir,
            cases: unary ? cases : [],
            writers: options.writers,
            fanout,
            writes: unary,
          },
          context,
        );
        if (unary) eventId = result.eventId;
        report.throughput.push(...result.throughput);
        report.fanout.push(...result.fanout);
      });
    }
    const baseline = options.baseline;
    if (baseline !== undefined && (parts.has("grouppe") || parts.has("fanout"))) {
      // The same cases (and the compared fan-out) against another checkout's build, right
      // after this one's.
      await part("grouppe baseline", async () => {
        const result = await runGrouppeSuite(
          {
            storage: "pglite",
            cases: parts.has("grouppe") ? cases : [],
            writers: options.writers,
            fanout: comparedFanout,
            server: baselineGrouppe,
            serverRoot: join(baseline, "apps/server"),
            writes: false,
          },
          context,
        );
        report.throughput.push(...result.throughput);
        report.fanout.push(...result.fanout);
      });
    }
    if (parts.has("stock")) {
      // The same server with its engine off, in the same run: what the engine gains.
      await part("grouppe with GROUPPE_ENGINE=connect", async () => {
        const result = await runGrouppeSuite(
          {
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
          },
          context,
        );
        report.throughput.push(...result.throughput);
        report.fanout.push(...result.fanout);
      });
    }
    if (parts.has("postgres")) {
      await part("grouppe on PostgreSQL", async () => {
        const created = await createThrowawayDatabase(options.postgresAdminUrl);
        if ("unavailable" in created) {
          report.notes.push(`PostgreSQL part skipped: ${created.unavailable}`);
          return;
        }
        try {
          const postgresCases = [
            ...unaryCases(["Health/Check", "GetEvent"], ["grpc"]),
            ...unaryCases(["GetEvent"], ["connect-json"]),
            { method: "ListEvents" as const, protocol: "grpc" as const, light: true },
          ];
          const plan = {
            storage: "postgres" as const,
            databaseUrl: created.database.url,
            cases: postgresCases,
            writers: options.writers,
            fanout: comparedFanout,
          };
          const result = await runGrouppeSuite(plan, context);
          report.throughput.push(...result.throughput);
          report.fanout.push(...result.fanout);
          report.startup.push(startupRow("postgres", "first start", [result.startupMs]));
        } finally {
          await created.database.drop();
        }
      });
    }
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
          ...(await runStartupScenario(dataDir, options.restarts, options.startupIdleMs, context)),
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
    await rm(dataDir, { recursive: true, force: true });
  }

  const finished = { ...report, finishedAt: new Date().toISOString() };
  return { ...finished, ratios: computeRatios(finished) };
}
