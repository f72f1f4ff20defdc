import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startGrouppe } from "../grouppe/grouppe-process.js";
import { seedGrouppe } from "../grouppe/seed-grouppe.js";
import { runLoad } from "../load/run-load.js";
import { summarizeCpuProfile } from "../report/profile-summary.js";
import type { ProfileSummary } from "../report/report-types.js";
import type { BenchContext } from "./bench-context.js";
import { unarySpec } from "./unary-scenario.js";

const monotonicMicros = () => Number(process.hrtime.bigint() / 1_000n);

/**
 * Profiles grouppe's gRPC unary path: starts it on `dataDir` with `--cpu-prof`, loads
 * Health/Check and GetEvent over gRPC, stops it with SIGTERM so V8 writes the profile, and
 * summarises the top self-time frames of the load phase only (start-up and shutdown cut out).
 */
export async function runCpuProfileScenario(
  context: BenchContext,
  dataDir: string,
  knownEventId?: string,
): Promise<ProfileSummary> {
  const profileDir = await mkdtemp(join(tmpdir(), "grouppe-cpuprof-"));
  try {
    const grouppe = await startGrouppe({ cpuProfileDir: profileDir, dataDir });
    let exitCode: number | null;
    let window: { fromMicros: number; toMicros: number };
    try {
      const eventId =
        knownEventId ??
        (await seedGrouppe(grouppe.url, { events: 1, writers: 0, fanoutUsers: 0 })).eventIds[0];
      const target = {
        server: "grouppe" as const,
        storage: "pglite" as const,
        h2cUrl: grouppe.url,
        eventId: eventId ?? "",
      };
      const fromMicros = monotonicMicros();
      for (const method of ["Health/Check", "GetEvent"] as const) {
        const result = await runLoad(
          unarySpec(target, { method, protocol: "grpc" }, context),
          context.h2load,
        );
        context.progress(
          `profiled grouppe ${method} grpc: ${Math.round(result.requestsPerSecond)} req/s (slowed by the profiler)`,
        );
      }
      window = { fromMicros, toMicros: monotonicMicros() };
    } finally {
      exitCode = await grouppe.stop();
    }
    const [file] = (await readdir(profileDir)).filter((name) => name.endsWith(".cpuprofile"));
    if (!file)
      throw new Error(
        `grouppe exited with ${exitCode} and wrote no .cpuprofile; does it exit cleanly on SIGTERM?`,
      );
    const json = await readFile(join(profileDir, file), "utf8");
    const workload =
      "gRPC Health/Check then GetEvent under closed-loop load (PGlite), load phase only";
    const summary = summarizeCpuProfile(json, workload, { window });
    // Should the clocks ever disagree, a whole-process profile beats none.
    return summary.sampledMs > 0
      ? summary
      : summarizeCpuProfile(json, "gRPC Health/Check then GetEvent (whole process)");
  } finally {
    await rm(profileDir, { recursive: true, force: true });
  }
}
