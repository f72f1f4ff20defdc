import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { resolve } from "node:path";
import { createSecureContext } from "node:tls";
import { defaultPasswordCost } from "./auth/passwords.js";
import { type PgliteOptimize, pgliteOptimizeChoices } from "./store/pglite-optimize.js";

/**
 * Everything the server can be told, read once from the environment at start-up. A bad value
 * throws {@link ConfigError} naming the variable; `main.ts` prints that one line and exits.
 * Every variable is listed in the README's configuration table.
 */
export interface Config {
  production: boolean;
  host: string;
  port: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** PostgreSQL when set; otherwise PGlite in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  /** With PGlite: compile its WebAssembly for `memory` (baseline only) or `speed` (tier-up). */
  pgliteOptimize: PgliteOptimize;
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
  allowPlaintext: boolean;
  corsOrigins: string[];
  /**
   * Which proxies in front may say who the client is (X-Forwarded-For): `false` trusts none
   * (the socket's peer is the client), a number trusts that many hops, a list trusts those
   * addresses and CIDR ranges. Handed to Fastify's `trustProxy`.
   */
  trustProxy: false | number | string[];
  /**
   * The admin listener for `/metrics` (GROUPPE_ADMIN_PORT); absent means no metrics endpoint.
   * Loopback by default, so only the machine (or a sidecar) can scrape it.
   */
  admin?: { host: string; port: number };
  reflection: boolean;
  /**
   * Who serves RPCs: `engine` (@grouppe/engine for unary, server- and client-streaming calls,
   * connect-es for the rest) or `connect` (connect-es for everything; the escape hatch).
   */
  rpcEngine: "engine" | "connect";
  /** Where the built web app is; served at / when it exists. */
  webDir: string;
  auth: {
    issuer: string;
    audience: string;
    /** PEM of an Ed25519 or P-256 private key; generated into dataDir when unset. */
    signingKeyPem?: string;
    accessTokenTtlSeconds: number;
    refreshTokenTtlSeconds: number;
    /** How often each instance reads the signing key ring again to learn of rotations. */
    keyReloadMs: number;
    /** log2 of scrypt's N for new password hashes. */
    passwordCost: number;
  };
  limits: {
    readMaxBytes: number;
    writeMaxBytes: number;
    maxConcurrentStreams: number;
    maxTimeoutMs: number;
    requestTimeoutMs: number;
    headersTimeoutMs: number;
    /** How long an idle HTTP/1.1 keep-alive connection stays open. */
    http1KeepAliveTimeoutMs: number;
    /** An HTTP/1.1 socket with no traffic for this long is closed; above the live heartbeat. */
    connectionTimeoutMs: number;
    keepaliveIntervalMs: number;
    keepaliveTimeoutMs: number;
    maxConnectionAgeMs: number;
    maxConnectionAgeGraceMs: number;
    compressMinBytes: number;
    shutdownGraceMs: number;
  };
  rateLimit: {
    /** Calls per minute per signed-in user. */
    perUser: number;
    /** Calls per minute per client IP. */
    perIp: number;
    /** Calls per minute per service principal. */
    perService: number;
    /** SignUp and LogIn attempts per minute per client IP. */
    authPerIp: number;
    /** On PostgreSQL: how often each instance shares its counts with the others. */
    syncMs: number;
  };
  live: {
    heartbeatMs: number;
    maxWatchersPerUser: number;
    maxWatchers: number;
    /** Messages a watcher may have unread before it is cut off. */
    queueLimit: number;
  };
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

type Env = Record<string, string | undefined>;

function fail(name: string, value: string, expected: string): never {
  throw new ConfigError(`${name}=${JSON.stringify(value)} is invalid: expected ${expected}`);
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw.trim())) fail(name, raw, `an integer from ${min} to ${max}`);
  const value = Number(raw);
  if (value < min || value > max) fail(name, raw, `an integer from ${min} to ${max}`);
  return value;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  return fail(name, raw, "1/true/yes/on or 0/false/no/off");
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!(allowed as readonly string[]).includes(raw))
    fail(name, raw, `one of ${allowed.join(", ")}`);
  return raw as T;
}

function file(env: Env, name: string): Buffer | undefined {
  const path = env[name];
  if (path === undefined || path === "") return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError(`${name}=${JSON.stringify(path)} cannot be read (${why})`);
  }
}

function origins(env: Env, name: string): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return [];
  return raw.split(",").map((entry) => {
    const origin = entry.trim();
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      return fail(
        name,
        origin,
        "a comma-separated list of origins such as https://app.example.com",
      );
    }
    if (parsed.origin !== origin || !/^https?:$/.test(parsed.protocol)) {
      fail(name, origin, "origins as scheme://host[:port], without path or trailing slash");
    }
    return origin;
  });
}

/** proxy-addr's names for address ranges, accepted alongside addresses and CIDRs. */
const proxyRangeNames = new Set(["loopback", "linklocal", "uniquelocal"]);

function trustProxy(env: Env, name: string): false | number | string[] {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "" || /^(0|false|no|off)$/i.test(raw)) return false;
  const expected = "a hop count (1-10) or a comma-separated list of proxy addresses / CIDRs";
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops < 1 || hops > 10) fail(name, raw, expected);
    return hops;
  }
  return raw.split(",").map((entry) => {
    const range = entry.trim();
    if (proxyRangeNames.has(range)) return range;
    const [address = "", prefix, extra] = range.split("/");
    const family = isIP(address);
    const maxPrefix = family === 4 ? 32 : 128;
    const prefixOk =
      prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix);
    if (family === 0 || !prefixOk || extra !== undefined) fail(name, range, expected);
    return range;
  });
}

/** Fails at start-up, not at the first handshake, when the PEM files are unusable. */
function checkTls(cert: Buffer, key: Buffer, clientCa: Buffer | undefined): void {
  const why = (error: unknown) => (error instanceof Error ? error.message : String(error));
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new ConfigError(`GROUPPE_TLS_CERT and GROUPPE_TLS_KEY cannot be used: ${why(error)}`);
  }
  if (!clientCa) return;
  try {
    // A CA file without a certificate in it is accepted by OpenSSL and would silently make
    // every client anonymous; parsing it catches that.
    new X509Certificate(clientCa);
    createSecureContext({ ca: clientCa });
  } catch (error) {
    throw new ConfigError(`GROUPPE_CLIENT_CA cannot be used: ${why(error)}`);
  }
}

/** Reads and checks the configuration; throws {@link ConfigError} on the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const production = env.NODE_ENV === "production";
  const cert = file(env, "GROUPPE_TLS_CERT");
  const key = file(env, "GROUPPE_TLS_KEY");
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError("GROUPPE_TLS_CERT and GROUPPE_TLS_KEY must be set together");
  }
  const clientCa = file(env, "GROUPPE_CLIENT_CA");
  if (clientCa && !cert)
    throw new ConfigError("GROUPPE_CLIENT_CA needs GROUPPE_TLS_CERT and GROUPPE_TLS_KEY");
  if (cert && key) checkTls(cert, key, clientCa);
  const allowPlaintext = flag(env, "GROUPPE_ALLOW_PLAINTEXT", false);
  if (production && !cert && !allowPlaintext) {
    throw new ConfigError(
      "NODE_ENV=production needs GROUPPE_TLS_CERT and GROUPPE_TLS_KEY, or GROUPPE_ALLOW_PLAINTEXT=1 behind a TLS-terminating proxy",
    );
  }
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    fail("DATABASE_URL", databaseUrl, "a postgres:// or postgresql:// URL");
  }
  const keyFile = env.GROUPPE_JWT_KEY_FILE;
  const signingKeyPem = keyFile ? file(env, "GROUPPE_JWT_KEY_FILE")?.toString("utf8") : undefined;
  const minute = 60;
  const config: Config = {
    production,
    host: env.HOST?.trim() || "0.0.0.0",
    port: integer(env, "PORT", 8080, 0, 65535),
    logLevel: oneOf(env, "LOG_LEVEL", production ? "info" : "info", [
      "fatal",
      "error",
      "warn",
      "info",
      "debug",
      "trace",
      "silent",
    ]),
    databaseUrl,
    dataDir: resolve(env.GROUPPE_DATA_DIR?.trim() || "./data"),
    pgliteOptimize: oneOf(env, "GROUPPE_PGLITE_OPTIMIZE", "memory", pgliteOptimizeChoices),
    tls: cert && key ? { cert, key, clientCa } : undefined,
    allowPlaintext,
    corsOrigins: origins(env, "GROUPPE_CORS_ORIGINS"),
    trustProxy: trustProxy(env, "GROUPPE_TRUST_PROXY"),
    admin: env.GROUPPE_ADMIN_PORT?.trim()
      ? {
          host: env.GROUPPE_ADMIN_HOST?.trim() || "127.0.0.1",
          port: integer(env, "GROUPPE_ADMIN_PORT", 0, 0, 65535),
        }
      : undefined,
    reflection: flag(env, "GROUPPE_REFLECTION", !production),
    rpcEngine: oneOf(env, "GROUPPE_ENGINE", "engine", ["engine", "connect"]),
    webDir: resolve(
      env.GROUPPE_WEB_DIR?.trim() || new URL("../../web/build", import.meta.url).pathname,
    ),
    auth: {
      issuer: env.GROUPPE_JWT_ISSUER?.trim() || "grouppe",
      audience: env.GROUPPE_JWT_AUDIENCE?.trim() || "grouppe-api",
      signingKeyPem,
      accessTokenTtlSeconds: integer(
        env,
        "GROUPPE_ACCESS_TOKEN_TTL_SECONDS",
        15 * minute,
        10,
        24 * 60 * minute,
      ),
      refreshTokenTtlSeconds: integer(
        env,
        "GROUPPE_REFRESH_TOKEN_TTL_SECONDS",
        30 * 24 * 60 * minute,
        60,
        365 * 24 * 60 * minute,
      ),
      keyReloadMs: integer(env, "GROUPPE_SIGNING_KEY_RELOAD_MS", 60_000, 100, 3_600_000),
      passwordCost: integer(env, "GROUPPE_PASSWORD_COST", defaultPasswordCost, 10, 20),
    },
    limits: {
      readMaxBytes: integer(env, "GROUPPE_READ_MAX_BYTES", 4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
      writeMaxBytes: integer(
        env,
        "GROUPPE_WRITE_MAX_BYTES",
        4 * 1024 * 1024,
        1024,
        64 * 1024 * 1024,
      ),
      maxConcurrentStreams: integer(env, "GROUPPE_MAX_CONCURRENT_STREAMS", 100, 1, 10_000),
      maxTimeoutMs: integer(env, "GROUPPE_MAX_TIMEOUT_MS", 60_000, 100, 3_600_000),
      requestTimeoutMs: integer(env, "GROUPPE_REQUEST_TIMEOUT_MS", 30_000, 100, 3_600_000),
      headersTimeoutMs: integer(env, "GROUPPE_HEADERS_TIMEOUT_MS", 10_000, 100, 600_000),
      http1KeepAliveTimeoutMs: integer(
        env,
        "GROUPPE_HTTP1_KEEP_ALIVE_TIMEOUT_MS",
        65_000,
        100,
        3_600_000,
      ),
      connectionTimeoutMs: integer(
        env,
        "GROUPPE_CONNECTION_TIMEOUT_MS",
        120_000,
        1_000,
        24 * 3_600_000,
      ),
      keepaliveIntervalMs: integer(env, "GROUPPE_KEEPALIVE_INTERVAL_MS", 60_000, 1_000, 3_600_000),
      keepaliveTimeoutMs: integer(env, "GROUPPE_KEEPALIVE_TIMEOUT_MS", 20_000, 100, 600_000),
      maxConnectionAgeMs: integer(
        env,
        "GROUPPE_MAX_CONNECTION_AGE_MS",
        30 * 60_000,
        1_000,
        7 * 24 * 3_600_000,
      ),
      maxConnectionAgeGraceMs: integer(
        env,
        "GROUPPE_MAX_CONNECTION_AGE_GRACE_MS",
        30_000,
        0,
        3_600_000,
      ),
      compressMinBytes: integer(env, "GROUPPE_COMPRESS_MIN_BYTES", 1024, 0, 64 * 1024 * 1024),
      shutdownGraceMs: integer(env, "GROUPPE_SHUTDOWN_GRACE_MS", 10_000, 0, 600_000),
    },
    rateLimit: {
      perUser: integer(env, "GROUPPE_RATE_LIMIT_USER", 600, 1, 10_000_000),
      perIp: integer(env, "GROUPPE_RATE_LIMIT_IP", 1200, 1, 10_000_000),
      perService: integer(env, "GROUPPE_RATE_LIMIT_SERVICE", 60_000, 1, 10_000_000),
      authPerIp: integer(env, "GROUPPE_RATE_LIMIT_AUTH", 20, 1, 10_000_000),
      syncMs: integer(env, "GROUPPE_RATE_LIMIT_SYNC_MS", 1_000, 10, 3_600_000),
    },
    live: {
      heartbeatMs: integer(env, "GROUPPE_HEARTBEAT_MS", 15_000, 100, 3_600_000),
      maxWatchersPerUser: integer(env, "GROUPPE_MAX_WATCHERS_PER_USER", 20, 1, 1_000_000),
      maxWatchers: integer(env, "GROUPPE_MAX_WATCHERS", 20_000, 1, 10_000_000),
      queueLimit: integer(env, "GROUPPE_WATCH_QUEUE", 256, 4, 1_000_000),
    },
  };
  if (config.limits.connectionTimeoutMs <= config.live.heartbeatMs) {
    // An idle-socket timeout at or below the heartbeat would cut every quiet HTTP/1.1 stream.
    throw new ConfigError(
      `GROUPPE_CONNECTION_TIMEOUT_MS (${config.limits.connectionTimeoutMs}) must be above GROUPPE_HEARTBEAT_MS (${config.live.heartbeatMs})`,
    );
  }
  return config;
}
