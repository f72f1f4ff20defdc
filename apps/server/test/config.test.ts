import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { serverMain } from "../src/testing/index.js";
import {
  createDevCa,
  createServerCertificate,
  type PemCertificate,
} from "../src/tls/dev-certificates.js";

let dir: string;
let certs: { ca: PemCertificate; server: PemCertificate };
const files = { cert: "", key: "", ca: "", garbage: "" };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "grouppe-config-"));
  const ca = await createDevCa();
  certs = { ca, server: await createServerCertificate(ca) };
  const write = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text, { mode: 0o600 });
    return path;
  };
  files.cert = await write("server.pem", certs.server.cert);
  files.key = await write("server.key", certs.server.key);
  files.ca = await write("ca.pem", certs.ca.cert);
  files.garbage = await write("garbage.pem", "this is not PEM\n");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the built entry point (`dist/main.js`) as a real process with only `env` (plus PATH and HOME) set. */
function runMain(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [serverMain], {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        GROUPPE_DATA_DIR: dir,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function configError(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("loadConfig accepted the configuration");
}

describe("loadConfig", () => {
  it("has safe transport defaults: timeouts set, none of them zero", () => {
    const { limits } = loadConfig({});
    expect(limits.requestTimeoutMs).toBeGreaterThan(0);
    expect(limits.headersTimeoutMs).toBeGreaterThan(0);
    expect(limits.http1KeepAliveTimeoutMs).toBeGreaterThan(0);
    expect(limits.connectionTimeoutMs).toBeGreaterThan(loadConfig({}).live.heartbeatMs);
    expect(limits.keepaliveIntervalMs).toBeGreaterThan(0);
    expect(limits.maxConnectionAgeMs).toBeGreaterThan(0);
  });

  it("reads the HTTP/1.1 keep-alive and connection timeouts", () => {
    const { limits } = loadConfig({
      GROUPPE_HTTP1_KEEP_ALIVE_TIMEOUT_MS: "5000",
      GROUPPE_CONNECTION_TIMEOUT_MS: "90000",
    });
    expect(limits.http1KeepAliveTimeoutMs).toBe(5000);
    expect(limits.connectionTimeoutMs).toBe(90000);
  });

  it("serves RPCs with the engine unless GROUPPE_ENGINE=connect", () => {
    expect(loadConfig({}).rpcEngine).toBe("engine");
    expect(loadConfig({ GROUPPE_ENGINE: "connect" }).rpcEngine).toBe("connect");
    expect(configError({ GROUPPE_ENGINE: "grpc-js" })).toMatch(
      /GROUPPE_ENGINE="grpc-js" is invalid/,
    );
  });

  it("keeps PGlite optimized for memory unless GROUPPE_PGLITE_OPTIMIZE=speed", () => {
    expect(loadConfig({}).pgliteOptimize).toBe("memory");
    expect(loadConfig({ GROUPPE_PGLITE_OPTIMIZE: "speed" }).pgliteOptimize).toBe("speed");
    expect(configError({ GROUPPE_PGLITE_OPTIMIZE: "fast" })).toMatch(
      /GROUPPE_PGLITE_OPTIMIZE="fast" is invalid.*memory, speed/,
    );
  });

  it("refuses an idle-connection timeout that would cut quiet streams", () => {
    expect(
      configError({ GROUPPE_CONNECTION_TIMEOUT_MS: "10000", GROUPPE_HEARTBEAT_MS: "15000" }),
    ).toMatch(
      /GROUPPE_CONNECTION_TIMEOUT_MS \(10000\) must be above GROUPPE_HEARTBEAT_MS \(15000\)/,
    );
  });

  it("checks TLS files when it reads them", () => {
    expect(
      loadConfig({
        GROUPPE_TLS_CERT: files.cert,
        GROUPPE_TLS_KEY: files.key,
        GROUPPE_CLIENT_CA: files.ca,
      }).tls,
    ).toBeDefined();
    expect(configError({ GROUPPE_TLS_CERT: files.cert, GROUPPE_TLS_KEY: files.garbage })).toMatch(
      /^GROUPPE_TLS_CERT and GROUPPE_TLS_KEY cannot be used: /,
    );
    expect(
      configError({
        GROUPPE_TLS_CERT: files.cert,
        GROUPPE_TLS_KEY: files.key,
        GROUPPE_CLIENT_CA: files.garbage,
      }),
    ).toMatch(/^GROUPPE_CLIENT_CA cannot be used: /);
    expect(
      configError({ GROUPPE_TLS_CERT: files.cert, GROUPPE_TLS_KEY: join(dir, "missing.key") }),
    ).toMatch(/^GROUPPE_TLS_KEY=".*missing\.key" cannot be read \(ENOENT\)$/);
  });
});

describe("a bad configuration stops the real process with one clear line", () => {
  const cases: { name: string; env: () => Record<string, string>; line: RegExp }[] = [
    {
      name: "PORT=abc",
      env: () => ({ PORT: "abc" }),
      line: /^grouppe: PORT="abc" is invalid: expected an integer from 0 to 65535$/,
    },
    {
      name: "a TLS key file that does not exist",
      env: () => ({ GROUPPE_TLS_CERT: files.cert, GROUPPE_TLS_KEY: join(dir, "missing.key") }),
      line: /^grouppe: GROUPPE_TLS_KEY=".*missing\.key" cannot be read \(ENOENT\)$/,
    },
    {
      // A directory cannot be read as a file, even by root (a mode-000 file can).
      name: "a TLS key path that is a directory",
      env: () => ({ GROUPPE_TLS_CERT: files.cert, GROUPPE_TLS_KEY: dir }),
      line: /^grouppe: GROUPPE_TLS_KEY=".*" cannot be read \(EISDIR\)$/,
    },
    {
      name: "a TLS key that is not a key",
      env: () => ({ GROUPPE_TLS_CERT: files.cert, GROUPPE_TLS_KEY: files.garbage }),
      line: /^grouppe: GROUPPE_TLS_CERT and GROUPPE_TLS_KEY cannot be used: .+$/,
    },
  ];

  for (const { name, env, line } of cases) {
    it(name, async () => {
      const result = await runMain(env());
      expect(result.code).toBe(1);
      const lines = result.stderr.split("\n").filter((text) => text !== "");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(line);
      expect(result.stdout).toBe("");
    });
  }
});
