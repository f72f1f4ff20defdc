import { type ChildProcess, spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { createTestDataDir, serverMain } from "./start-test-server.js";

/** The server as a process of its own, started from `dist/main.js`. */
export interface ServerProcess {
  child: ChildProcess;
  /** The URL from the "grouppe started" log line. */
  url: string;
  port: number;
  dataDir: string;
  /** Every JSON log line so far, in order. */
  logs: Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, SIGKILL if it outlives `graceMs`, then the data directory goes (when ours). */
  stop(graceMs?: number): Promise<void>;
}

export interface ServerProcessOptions {
  /** Reuse a data directory (a restart); the caller then owns it. */
  dataDir?: string;
  /** How long it may take to start; generous, as a loaded machine starts slowly. */
  startTimeoutMs?: number;
}

/**
 * Spawns `node dist/main.js` with only `env` on top of test defaults (port 0, loopback, info
 * logs, a migrated data directory, no web app, high rate limits) and resolves once it logs
 * "grouppe started"; rejects with its stderr if it exits or hangs first.
 */
export async function startServerProcess(
  env: Record<string, string> = {},
  { dataDir: givenDataDir, startTimeoutMs = 120_000 }: ServerProcessOptions = {},
): Promise<ServerProcess> {
  const dataDir = givenDataDir ?? (await createTestDataDir("grouppe-process-"));
  const child = spawn(process.execPath, [serverMain], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      GROUPPE_DATA_DIR: dataDir,
      GROUPPE_WEB_DIR: join(dataDir, "no-web-app"),
      GROUPPE_RATE_LIMIT_USER: "100000",
      GROUPPE_RATE_LIMIT_IP: "10000000",
      GROUPPE_RATE_LIMIT_AUTH: "100000",
      // Cheap password hashes, as in startTestServer: their cost is not under test.
      GROUPPE_PASSWORD_COST: "10",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Record<string, unknown>[] = [];
  let pending = "";
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const removeDataDir = () =>
    givenDataDir === undefined ? rm(dataDir, { recursive: true, force: true }) : Promise.resolve();

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the server did not start within ${startTimeoutMs} ms: ${stderr}`));
    }, startTimeoutMs);
    child.stdout?.on("data", (chunk: Buffer) => {
      pending += chunk.toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (line.trim() === "") continue;
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          entry = { msg: line, unparsed: true };
        }
        logs.push(entry);
        if (entry.msg === "grouppe started") {
          clearTimeout(timer);
          resolve(String(entry.url));
        }
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}) before it started: ${stderr}`));
    });
  }).catch(async (error: unknown) => {
    await removeDataDir();
    throw error;
  });

  return {
    child,
    url,
    port: Number(new URL(url).port),
    dataDir,
    logs,
    exited,
    async stop(graceMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(killer);
      }
      await removeDataDir();
    },
  };
}
