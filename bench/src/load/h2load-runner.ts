import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LatencyRecorder } from "./latency-recorder.js";
import type { LoadResult, LoadSpec } from "./load-spec.js";
import { templateBody } from "./rpc-protocol.js";

/** The h2load executable when it is installed (Debian: nghttp2-client), else undefined. */
export function findH2load(): Promise<string | undefined> {
  const candidate = process.env.H2LOAD ?? "h2load";
  return new Promise((resolve) => {
    execFile(candidate, ["--version"], { timeout: 5_000 }, (error, stdout) =>
      resolve(!error && stdout.includes("h2load") ? candidate : undefined),
    );
  });
}

/** Whether h2load can run `spec`: it sends one fixed request, so no per-slot sequences. */
export function h2loadCanRun(spec: LoadSpec): boolean {
  return spec.requests.length === 1 && spec.slotSequences === undefined;
}

function h2loadArgs(spec: LoadSpec, bodyFile: string, logFile: string): string[] {
  const [template] = spec.requests;
  if (!template) throw new Error("h2load needs exactly one request");
  const args = ["-t", "1", "-c", String(spec.connections), "-m", String(spec.streamsPerConnection)];
  if (spec.requestCount !== undefined) args.push("-n", String(spec.requestCount));
  else {
    const millis = (seconds: number) => `${Math.round(seconds * 1_000)}ms`;
    args.push("-D", millis(spec.durationSeconds ?? 1));
    if (spec.warmUpSeconds) args.push(`--warm-up-time=${millis(spec.warmUpSeconds)}`);
  }
  if (spec.transport === "http/1.1") args.push("--h1");
  // h2load cannot mmap an empty file, so an empty body is a POST with content-length 0.
  if (template.bodyBase64 === "") args.push("-H", ":method: POST", "-H", "content-length: 0");
  else args.push("-d", bodyFile);
  args.push(`--log-file=${logFile}`);
  for (const [name, value] of Object.entries(template.headers))
    args.push("-H", `${name}: ${value}`);
  args.push(new URL(template.path, spec.url).toString());
  return args;
}

function runProcess(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`h2load exited with ${code}:\n${output.slice(-2_000)}`));
    });
  });
}

function numberAfter(output: string, pattern: RegExp): number {
  const match = pattern.exec(output);
  if (!match?.[1]) throw new Error(`h2load output has no ${pattern}:\n${output.slice(-2_000)}`);
  return Number(match[1]);
}

/**
 * Runs `spec` with h2load and reads throughput from its summary and latencies from its
 * per-request log. h2load sees HTTP statuses only, not grpc-status.
 */
export async function runH2load(h2load: string, spec: LoadSpec): Promise<LoadResult> {
  const [template] = spec.requests;
  if (!template || !h2loadCanRun(spec)) throw new Error("h2load runs one fixed request only");
  const dir = await mkdtemp(join(tmpdir(), "grouppe-h2load-"));
  try {
    const bodyFile = join(dir, "body.bin");
    const logFile = join(dir, "requests.log");
    await writeFile(bodyFile, templateBody(template));
    const limitMs =
      spec.requestCount !== undefined
        ? 10 * 60_000
        : ((spec.durationSeconds ?? 1) + (spec.warmUpSeconds ?? 0)) * 1_000 + 30_000;
    const output = await runProcess(h2load, h2loadArgs(spec, bodyFile, logFile), limitMs);
    const requestsPerSecond = numberAfter(output, /finished in [\d.]+m?s, ([\d.]+) req\/s/);
    const done = numberAfter(output, /requests: .*?(\d+) done/);
    const errored = numberAfter(output, /(\d+) errored/);
    const timedOut = numberAfter(output, /(\d+) timeout/);
    const recorder = new LatencyRecorder();
    const errors: Record<string, number> = {};
    let ok = 0;
    for (const line of (await readFile(logFile, "utf8")).split("\n")) {
      const [, status, micros] = line.split("\t");
      // Status 0: still in flight when the measured duration ended; neither success nor failure.
      if (status === undefined || micros === undefined || status === "0") continue;
      recorder.recordMicros(Number(micros));
      const outcome =
        status === "200" ? "ok" : status === "-1" ? "stream_failed" : `http_${status}`;
      if (outcome === "ok") ok++;
      else errors[outcome] = (errors[outcome] ?? 0) + 1;
    }
    if (errored > 0 && errors.stream_failed === undefined) errors.h2load_errored = errored;
    if (done === 0) errors.none_completed_in_window = 1;
    if (timedOut > 0) errors.h2load_timeout = timedOut;
    return {
      engine: "h2load",
      requests: done,
      ok,
      errors,
      seconds: requestsPerSecond > 0 ? done / requestsPerSecond : 0,
      requestsPerSecond,
      latencyUs: recorder.summary(),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
