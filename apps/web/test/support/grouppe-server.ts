import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { webRoot } from "./web-build.js";

/** A grouppe server for the tests, and how to reach it. */
export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface ServerModule {
  createServer(config: unknown): Promise<{ url: string; port: number; close(): Promise<void> }>;
}

interface ConfigModule {
  loadConfig(env: Record<string, string | undefined>): unknown;
}

const serverDist = join(webRoot, "..", "server", "dist");

async function importServerDist<T>(file: string): Promise<T> {
  try {
    return (await import(pathToFileURL(join(serverDist, file)).href)) as T;
  } catch (error) {
    throw new Error(
      `the grouppe server is not built (${file}): run "npx tsc -p tsconfig.build.json" in apps/server`,
      { cause: error },
    );
  }
}

/**
 * Starts the real grouppe server in this process: port 0 on loopback, a throwaway data
 * directory (PGlite), quiet logs, sign-up limits high enough for a test run, and `webDir` as
 * the web app it serves. `env` adds or overrides configuration variables. Pass `dataDir` and
 * `port` to start a server again where a stopped one left off; the caller then owns `dataDir`.
 */
export async function startGrouppeServer(options: {
  webDir: string;
  env?: Record<string, string>;
  dataDir?: string;
  port?: number;
}): Promise<RunningServer> {
  const { createServer } = await importServerDist<ServerModule>("server.js");
  const { loadConfig } = await importServerDist<ConfigModule>("config.js");
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "grouppe-web-test-")));
  const removeDataDir = () =>
    ownsDataDir ? rm(dataDir, { recursive: true, force: true }) : Promise.resolve();
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: String(options.port ?? 0),
    LOG_LEVEL: "silent",
    GROUPPE_DATA_DIR: dataDir,
    GROUPPE_WEB_DIR: options.webDir,
    GROUPPE_RATE_LIMIT_AUTH: "1000",
    GROUPPE_RATE_LIMIT_IP: "100000",
    GROUPPE_RATE_LIMIT_USER: "100000",
    GROUPPE_SHUTDOWN_GRACE_MS: "500",
    ...options.env,
  });
  let server: Awaited<ReturnType<ServerModule["createServer"]>>;
  try {
    server = await createServer(config);
  } catch (error) {
    await removeDataDir();
    throw error;
  }
  return {
    url: server.url,
    port: server.port,
    async close() {
      await server.close();
      await removeDataDir();
    },
  };
}
