import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serverMain, serverRoot } from "../paths.js";
import { freePort } from "./free-port.js";

/**
 * Limits raised for the bench: one client IP sends millions of calls a minute and holds
 * thousands of watchers, which production limits rightly refuse.
 */
export const benchServerEnv: Record<string, string> = {
  GROUPPE_RATE_LIMIT_IP: "10000000",
  GROUPPE_RATE_LIMIT_USER: "10000000",
  GROUPPE_RATE_LIMIT_SERVICE: "10000000",
  GROUPPE_RATE_LIMIT_AUTH: "10000000",
  GROUPPE_MAX_WATCHERS_PER_USER: "1000000",
  GROUPPE_MAX_WATCHERS: "1000000",
  GROUPPE_WATCH_QUEUE: "4096",
  GROUPPE_SHUTDOWN_GRACE_MS: "2000",
  GROUPPE_ACCESS_TOKEN_TTL_SECONDS: "7200",
  // No figure measures sign-up or log-in; cheap hashes only make seeding the users quicker.
  GROUPPE_PASSWORD_COST: "10",
  LOG_LEVEL: "warn",
};

/** How to start grouppe. */
export interface GrouppeOptions {
  /** PostgreSQL URL; embedded PGlite in a temporary data directory when unset. */
  databaseUrl?: string;
  /** An existing data directory to restart on; a fresh temporary one when unset. */
  dataDir?: string;
  /** Directory for `--cpu-prof` output; no profiling when unset. */
  cpuProfileDir?: string;
  /** Extra environment, e.g. `GROUPPE_ENGINE=connect` or GROUPPE_TLS_CERT/KEY/CLIENT_CA. */
  env?: Record<string, string>;
  /** How long start-up may take before it counts as failed. */
  readyTimeoutMs?: number;
  /** The apps/server directory to start from (another checkout's, for a baseline); this one's by default. */
  serverRoot?: string;
  /** With TLS on: the CA of the server certificate; the URL becomes https://localhost. */
  tlsCa?: Buffer;
}

/** A running grouppe server. */
export interface RunningGrouppe {
  url: string;
  pid: number;
  dataDir: string;
  /** From spawning `node dist/main.js` to the first 200 from /readyz. */
  startupMs: number;
  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`); resolves with the exit code. */
  stop(options?: { graceMs?: number; keepDataDir?: boolean }): Promise<number | null>;
}

/** Whether grouppe has been built (`apps/server/dist/main.js` exists). */
export function grouppeBuilt(): boolean {
  return existsSync(serverMain);
}

function readyz(url: string, ca?: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const get = ca
      ? (
          target: string,
          options: https.RequestOptions,
          onResponse: (response: http.IncomingMessage) => void,
        ) => https.get(target, { ...options, ca }, onResponse)
      : http.get;
    const request = get(`${url}/readyz`, { timeout: 1_000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(0));
  });
}

function waitForExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/**
 * Starts grouppe the way `npm start` does (`node dist/main.js` in apps/server) on a free port
 * with the bench's limits, and waits until /readyz answers 200.
 */
export async function startGrouppe(options: GrouppeOptions = {}): Promise<RunningGrouppe> {
  const root = options.serverRoot ?? serverRoot;
  if (!existsSync(join(root, "dist/main.js")))
    throw new Error(`${join(root, "dist/main.js")} is missing; build apps/server first`);
  const port = await freePort();
  const url = options.tlsCa ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "grouppe-bench-")));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...benchServerEnv,
    HOST: "127.0.0.1",
    PORT: String(port),
    GROUPPE_DATA_DIR: dataDir,
    ...options.env,
  };
  delete env.NODE_ENV;
  delete env.DATABASE_URL;
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
  const profileArgs = options.cpuProfileDir
    ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`]
    : [];
  const started = performance.now();
  const child = spawn(process.execPath, [...profileArgs, "dist/main.js"], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = waitForExit(child);

  const stop = async ({ graceMs = 15_000, keepDataDir = false } = {}) => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    const code = await exited;
    clearTimeout(timer);
    if (ownsDataDir && !keepDataDir) await rm(dataDir, { recursive: true, force: true });
    return code;
  };

  const deadline = started + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(
        `grouppe exited (${child.signalCode ?? child.exitCode}) before it was ready:\n${output}`,
      );
    }
    if ((await readyz(url, options.tlsCa)) === 200) break;
    if (performance.now() > deadline) {
      await stop({ graceMs: 1_000 });
      throw new Error(
        `grouppe was not ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${output}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { url, pid: child.pid ?? 0, dataDir, startupMs: performance.now() - started, stop };
}
