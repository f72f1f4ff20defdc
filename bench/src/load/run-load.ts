import { forkModule, nextMessage, stopChild } from "../child-process.js";
import { findH2load, h2loadCanRun, runH2load } from "./h2load-runner.js";
import type { LoadResult, LoadSpec } from "./load-spec.js";

/** Which load generator to use: h2load when installed ("auto"), or always the built-in one. */
export type EngineChoice = "auto" | "h2load" | "node";

/** Resolves the engine choice against what this machine has; "h2load" fails when it is missing. */
export async function resolveH2load(choice: EngineChoice): Promise<string | undefined> {
  if (choice === "node") return undefined;
  const h2load = await findH2load();
  if (!h2load && choice === "h2load")
    throw new Error("--engine=h2load but h2load is not installed");
  return h2load;
}

/** Runs `spec` with the built-in generator in a child process of its own. */
export async function runNodeLoad(spec: LoadSpec): Promise<LoadResult> {
  const worker = forkModule("load/load-worker");
  try {
    await nextMessage(worker, "ready", 30_000);
    const limitMs =
      spec.requestCount !== undefined
        ? 11 * 60_000
        : ((spec.durationSeconds ?? 1) + (spec.warmUpSeconds ?? 0) + 60) * 1_000;
    const reply = nextMessage<{ type: "result"; result: LoadResult }>(worker, "result", limitMs);
    worker.send({ type: "run", spec });
    return (await reply).result;
  } finally {
    await stopChild(worker);
  }
}

const probeRequests = 40;

/**
 * Runs `spec` with h2load when it can, else with the built-in generator. h2load cannot see
 * grpc-status or a Connect error body, so a short built-in probe follows each h2load run
 * (a server that throttled or failed during the run still does right after it); its
 * failures are added to the errors as `probe_<code>`.
 */
export async function runLoad(spec: LoadSpec, h2load: string | undefined): Promise<LoadResult> {
  if (!h2load || !h2loadCanRun(spec)) return runNodeLoad(spec);
  const probe: LoadSpec = {
    ...spec,
    connections: 1,
    streamsPerConnection: 1,
    requestCount: probeRequests,
    durationSeconds: undefined,
    warmUpSeconds: undefined,
  };
  const result = await runH2load(h2load, spec);
  const probed = await runNodeLoad(probe);
  for (const [code, count] of Object.entries(probed.errors)) result.errors[`probe_${code}`] = count;
  result.caveat = `h2load sees HTTP statuses only; ${probeRequests} probe calls after the run checked the RPC status`;
  return result;
}
