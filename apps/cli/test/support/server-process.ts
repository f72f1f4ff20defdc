import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

/** The repository root. */
export const repoRoot = new URL("../../../../", import.meta.url).pathname;
const serverMain = join(repoRoot, "apps/server/dist/main.js");

/** A real `grouppe-server` process (the built `node apps/server/dist/main.js`). */
export interface ServerProcess {
  /** http://127.0.0.1:PORT, or https://localhost:PORT with TLS. */
  readonly address: string;
  readonly port: number;
  /** Every JSON log line the current process wrote. */
  readonly logs: Record<string, unknown>[];
  readonly running: boolean;
  /** Ends the process with SIGTERM (graceful) or SIGKILL and waits for it to exit. */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Starts the process again on the same port and data directory. */
  start(): Promise<void>;
  /** Stops the process and deletes its data directory. */
  close(): Promise<void>;
}

export interface ServerProcessOptions {
  /** Environment on top of the test defaults (GROUPPE_TLS_CERT, … for TLS). */
  env?: Record<string, string>;
  /** Listen on this port (default: a free one, kept across restarts). */
  port?: number;
  /** https://localhost instead of http://127.0.0.1. */
  tls?: boolean;
}

/**
 * Spawns the built server with an embedded database in a fresh directory and waits until it
 * logs that it listens. Its port stays the same across `stop()` and `start()`.
 */
export async function startServerProcess(
  options: ServerProcessOptions = {},
): Promise<ServerProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), "grouppe-cli-test-"));
  let port = options.port ?? 0;
  let child: ChildProcess | undefined;
  let logs: Record<string, unknown>[] = [];

  async function start(): Promise<void> {
    logs = [];
    const spawned = spawn(process.execPath, [serverMain], {
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "info",
        GROUPPE_DATA_DIR: dataDir,
        GROUPPE_WEB_DIR: join(dataDir, "no-web-app"),
        GROUPPE_RATE_LIMIT_USER: "1000000",
        GROUPPE_RATE_LIMIT_IP: "1000000",
        GROUPPE_RATE_LIMIT_AUTH: "100000",
        GROUPPE_RATE_LIMIT_SERVICE: "1000000",
        GROUPPE_SHUTDOWN_GRACE_MS: "1000",
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = spawned;
    const stderr: string[] = [];
    spawned.stderr?.on("data", (chunk) => stderr.push(String(chunk)));
    const started = new Promise<number>((resolve, reject) => {
      const lines = createInterface({ input: spawned.stdout as NodeJS.ReadableStream });
      lines.on("line", (line) => {
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line);
        } catch {
          return;
        }
        logs.push(entry);
        if (entry.msg === "grouppe started") resolve(Number(new URL(String(entry.url)).port));
      });
      spawned.once("exit", (code) =>
        reject(new Error(`the server exited with ${code} before listening: ${stderr.join("")}`)),
      );
    });
    port = await started;
  }

  async function stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill(signal);
    await exited;
  }

  await start();
  return {
    get address() {
      return options.tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get logs() {
      return logs;
    },
    get running() {
      return child !== undefined && child.exitCode === null;
    },
    stop,
    start,
    async close() {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
