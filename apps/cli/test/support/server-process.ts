import { rm } from "node:fs/promises";
import { createTestDataDir, startServerProcess as spawnServer } from "@grouppe/server/testing";

/** The repository root. */
export const repoRoot = new URL("../../../../", import.meta.url).pathname;

/**
 * A real `grouppe-server` process (`node apps/server/dist/main.js`, started by the server's own
 * test fixture) that keeps its port and data directory across restarts.
 */
export interface ServerProcess {
  /** http://127.0.0.1:PORT, or https://localhost:PORT with TLS. */
  readonly address: string;
  readonly port: number;
  /** Every JSON log line the current process wrote. */
  readonly logs: Record<string, unknown>[];
  /** SIGTERM (a graceful stop); waits until the process has exited. */
  stop(): Promise<void>;
  /** Starts the process again on the same port and data directory. */
  start(): Promise<void>;
  /** Stops the process and deletes its data directory. */
  close(): Promise<void>;
}

export interface ServerProcessOptions {
  /** Environment on top of the fixture's defaults (DATABASE_URL, GROUPPE_TLS_CERT, …). */
  env?: Record<string, string>;
  /** Listen on this port (default: a free one, kept across restarts). */
  port?: number;
  /** https://localhost instead of http://127.0.0.1. */
  tls?: boolean;
}

export async function startServerProcess(
  options: ServerProcessOptions = {},
): Promise<ServerProcess> {
  const dataDir = await createTestDataDir("grouppe-cli-");
  let port = options.port ?? 0;
  let current: Awaited<ReturnType<typeof spawnServer>> | undefined;
  const start = async () => {
    current = await spawnServer(
      {
        GROUPPE_RATE_LIMIT_SERVICE: "1000000",
        GROUPPE_SHUTDOWN_GRACE_MS: "1000",
        ...options.env,
        PORT: String(port),
      },
      { dataDir },
    );
    port = current.port;
  };
  const stop = async () => {
    const running = current;
    current = undefined;
    await running?.stop();
  };
  await start();
  return {
    get address() {
      return options.tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get logs() {
      return current?.logs ?? [];
    },
    stop,
    start,
    async close() {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
