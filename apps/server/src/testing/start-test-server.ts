import { accessSync, constants } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../config.js";
import { createLogger } from "../observability/logger.js";
import { type CreateServerOptions, createServer, type GrouppeServer } from "../server.js";

/** The built entry point (`npm start` runs it), for tests that need the server as a process. */
export const serverMain = fileURLToPath(new URL("../../dist/main.js", import.meta.url));

/** A grouppe server started for a test file, on a free port and a fresh data directory. */
export interface TestServer {
  /** http://127.0.0.1:PORT, or https://localhost:PORT with TLS. */
  baseUrl: string;
  port: number;
  dataDir: string;
  /** Every log line the server wrote, in order. */
  logs: string[];
  server: GrouppeServer;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** PEM strings; written to files and named through the GROUPPE_TLS_* variables. */
  tls?: { cert: string; key: string; clientCa?: string };
  /** Start where a stopped server left off; the caller then owns (and removes) the directory. */
  dataDir?: string;
  /** A fixed port, to come back where a stopped server listened; default a free one. */
  port?: number;
  /** Wraps the server's stores, e.g. to make one fail on cue (see CreateServerOptions). */
  decorateStores?: CreateServerOptions["decorateStores"];
}

/**
 * Where test data directories go: Linux's RAM-backed /dev/shm when it is there and writable,
 * else the temporary directory. A new database is a copy of the template's thousand files;
 * creating them on this project's 2-core test machine's disk took 1.2 s of CPU per test server,
 * in tmpfs 0.06 s. (A process killed mid-test leaves its directory there until the machine
 * restarts; every fixture removes its own.)
 */
const testDataRoot = (() => {
  try {
    accessSync("/dev/shm", constants.W_OK);
    return "/dev/shm";
  } catch {
    return tmpdir();
  }
})();

/**
 * Makes an empty data directory for a test server (see {@link testDataRoot}); the caller
 * removes it. Its embedded database starts, like every new one, as a copy of the migrated
 * template the build made, so no test file pays for initdb and migrations.
 */
export function createTestDataDir(prefix = "grouppe-test-"): Promise<string> {
  return mkdtemp(join(testDataRoot, prefix));
}

/**
 * Starts the real server in this process, configured exactly as `main.ts` configures it (from
 * environment variables), with `env` on top of test defaults: port 0, loopback, the embedded
 * database in a temporary directory (a copy of the build's migrated template), no web app, and
 * generous rate limits unless a test sets its own.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  options: TestServerOptions = {},
): Promise<TestServer> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await createTestDataDir());
  const removeDataDir = () =>
    ownsDataDir ? rm(dataDir, { recursive: true, force: true }) : Promise.resolve();
  const tlsEnv: Record<string, string> = {};
  if (options.tls) {
    const files = {
      GROUPPE_TLS_CERT: options.tls.cert,
      GROUPPE_TLS_KEY: options.tls.key,
      GROUPPE_CLIENT_CA: options.tls.clientCa,
    };
    for (const [name, pem] of Object.entries(files)) {
      if (pem === undefined) continue;
      const path = join(dataDir, `${name.toLowerCase()}.pem`);
      await writeFile(path, pem, { mode: 0o600 });
      tlsEnv[name] = path;
    }
  }
  const config = loadConfig({
    PORT: String(options.port ?? 0),
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    GROUPPE_DATA_DIR: dataDir,
    GROUPPE_WEB_DIR: join(dataDir, "no-web-app"),
    GROUPPE_RATE_LIMIT_USER: "100000",
    GROUPPE_RATE_LIMIT_IP: "100000",
    GROUPPE_RATE_LIMIT_AUTH: "100000",
    GROUPPE_SHUTDOWN_GRACE_MS: "2000",
    // What a password hash costs is not under test here, and each stored hash names its own
    // cost; at the default (2^15) the suite spent most of a minute of CPU in sign-ups.
    GROUPPE_PASSWORD_COST: "10",
    ...tlsEnv,
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line !== "") logs.push(line);
      done();
    },
  });
  let server: GrouppeServer;
  try {
    server = await createServer(config, {
      logger: createLogger(config, sink),
      decorateStores: options.decorateStores,
    });
  } catch (error) {
    await removeDataDir();
    throw error;
  }
  const baseUrl = options.tls
    ? `https://localhost:${server.port}`
    : `http://127.0.0.1:${server.port}`;
  return {
    baseUrl,
    port: server.port,
    dataDir,
    logs,
    server,
    async close() {
      await server.close();
      await removeDataDir();
    },
  };
}
