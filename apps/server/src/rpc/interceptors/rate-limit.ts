import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, type Interceptor } from "@connectrpc/connect";
import { AuthService } from "@grouppe/api";
import { RetryInfoSchema } from "@grouppe/api/rpc";
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRes,
} from "rate-limiter-flexible";
import type { Config } from "../../config.js";
import { grouppeError } from "../../errors.js";
import type { Db } from "../../store/db.js";
import { clientKey } from "../client-key.js";
import { callerKey, peerKey } from "../context.js";
import { MemoryRateCounters } from "./memory-rate-counters.js";
import { SharedRateCounters } from "./shared-rate-counters.js";

/** How the rate limit interceptor counts calls. */
export interface RateLimitOptions {
  limits: Config["rateLimit"];
  /** The server's database; with `store: "postgres"` it keeps the counters. */
  db?: Db;
  /**
   * Where counters live. "postgres" shares them between every server on the same database;
   * "memory" keeps them per process. Default: "postgres" when `db` is PostgreSQL, else "memory"
   * (PGlite belongs to one process, so memory counts the same, only faster).
   */
  store?: "memory" | "postgres";
  /**
   * With "postgres": how often each process shares its counts (see shared-rate-counters.ts).
   * Default 1000 ms.
   */
  syncMs?: number;
  /** Stops the background sharing of counts (server shutdown). */
  signal?: AbortSignal;
  /** Told when sharing counts fails; calls are then limited on this process's counts. */
  onSyncError?: (error: unknown) => void;
  /** Told after each background share of counts that succeeded (metrics, tests). */
  onSynced?: () => void;
}

/** Who a limit is counted per; named in the error's ErrorInfo metadata. */
type Scope = "user" | "service" | "ip" | "auth";

/**
 * Counts a call against a key: resolves (or returns) undefined when the call may go ahead,
 * else the milliseconds until it may.
 */
type Take = (key: string) => number | undefined | Promise<number | undefined>;

interface Bucket {
  scope: Scope;
  points: number;
  take: Take;
}

const windowSeconds = 60;
/** One table for every scope (migration 0003); keys carry the scope as a prefix. */
const tableName = "grouppe_rate_limits";
const authMethodNames = new Set([AuthService.method.signUp.name, AuthService.method.logIn.name]);

/**
 * Limits calls per minute: per signed-in user, per service principal, and per client IP for
 * anonymous callers (an IPv6 client per /64, see client-key.ts), so one caller running out never slows another. SignUp and LogIn also
 * count against the stricter `authPerIp`, which makes password guessing slow. Past a limit a
 * call fails with RESOURCE_EXHAUSTED (HTTP 429 in the Connect protocol), a google.rpc.RetryInfo
 * and a Retry-After header. Runs after authentication: it reads `callerKey` and `peerKey`.
 *
 * On PostgreSQL the per-user, per-service and per-IP counts are kept in memory and shared in
 * the background (no database round trip per call; the limit holds across instances
 * approximately, see {@link SharedRateCounters}); the SignUp / LogIn limit is counted in the
 * database on every attempt, exactly, since those calls go to the database anyway.
 */
export function createRateLimitInterceptor(options: RateLimitOptions): Interceptor {
  const { limits, db } = options;
  const store = options.store ?? (db?.kind === "postgres" ? "postgres" : "memory");
  let newTake: (scope: Scope, points: number) => Take = (_scope, points) => {
    const counters = new MemoryRateCounters({ windowMs: windowSeconds * 1000 });
    return (key) => counters.take(key, points);
  };
  let strictTake = newTake;
  if (store === "postgres") {
    if (db === undefined) throw new Error("rate limits in PostgreSQL need a db");
    const counters = new SharedRateCounters({ db, tableName, windowMs: windowSeconds * 1000 });
    syncInBackground(counters, options);
    newTake = (scope, points) => (key) => counters.take(`${scope}:${key}`, points);
    strictTake = (scope, points) => takeFrom(postgresLimiter(db, scope, points));
  }
  const user = bucket("user", limits.perUser, newTake);
  const service = bucket("service", limits.perService, newTake);
  const ip = bucket("ip", limits.perIp, newTake);
  const auth = bucket("auth", limits.authPerIp, strictTake);

  return (next) => async (req) => {
    const caller = req.contextValues.get(callerKey);
    const address = clientKey(req.contextValues.get(peerKey).ip);
    // Counters in memory answer at once; only the database's are awaited.
    if (
      req.method.parent.typeName === AuthService.typeName &&
      authMethodNames.has(req.method.name)
    ) {
      await take(auth, address);
    }
    let counted: Promise<void> | undefined;
    switch (caller.kind) {
      case "user":
        counted = take(user, caller.userId);
        break;
      case "service":
        counted = take(service, caller.principal);
        break;
      case "anonymous":
        counted = take(ip, address);
        break;
    }
    if (counted !== undefined) await counted;
    return next(req);
  };
}

/** Shares the counts every `syncMs` until `signal` aborts; the timer never keeps Node alive. */
function syncInBackground(counters: SharedRateCounters, options: RateLimitOptions): void {
  if (options.signal?.aborted) return;
  const timer = setInterval(() => {
    counters.sync().then(
      () => options.onSynced?.(),
      (error: unknown) => options.onSyncError?.(error),
    );
  }, options.syncMs ?? 1_000);
  timer.unref();
  options.signal?.addEventListener("abort", () => clearInterval(timer), { once: true });
}

/** A rate-limiter-flexible limiter as a {@link Take}. */
function takeFrom(limiter: RateLimiterAbstract): Take {
  return async (key) => {
    try {
      await limiter.consume(key);
      return undefined;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      return rejection.msBeforeNext;
    }
  };
}

function bucket(
  scope: Scope,
  points: number,
  newTake: (scope: Scope, points: number) => Take,
): Bucket {
  return { scope, points, take: newTake(scope, points) };
}

function memoryLimiter(scope: Scope, points: number): RateLimiterAbstract {
  return new RateLimiterMemory({ keyPrefix: scope, points, duration: windowSeconds });
}

function postgresLimiter(db: Db, scope: Scope, points: number): RateLimiterAbstract {
  return new RateLimiterPostgres({
    storeClient: poolOf(db),
    storeType: "pool",
    tableName,
    tableCreated: true,
    keyPrefix: scope,
    points,
    duration: windowSeconds,
    // While the database is unreachable, count in memory rather than refuse or wave through.
    insuranceLimiter: memoryLimiter(scope, points),
  });
}

/** The slice of a pg Pool that RateLimiterPostgres uses, served by our Db and its pool. */
function poolOf(db: Db) {
  return {
    async query(query: { text: string; values?: unknown[] }) {
      const rows = await db.query(query.text, query.values);
      return { rows, rowCount: rows.length };
    },
  };
}

/** Counts a call; throws RESOURCE_EXHAUSTED past the limit, or returns a promise of that. */
function take(bucket: Bucket, key: string): Promise<void> | undefined {
  const msBeforeNext = bucket.take(key);
  if (msBeforeNext instanceof Promise) return msBeforeNext.then((ms) => refuse(bucket, ms));
  refuse(bucket, msBeforeNext);
  return undefined;
}

function refuse({ scope, points }: Bucket, msBeforeNext: number | undefined): void {
  if (msBeforeNext === undefined) return;
  const retrySeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  throw grouppeError(
    Code.ResourceExhausted,
    "RATE_LIMITED",
    `too many calls: at most ${points} per minute per ${scope === "auth" ? "IP for sign-up and log-in" : scope}; retry in ${retrySeconds}s`,
    {
      metadata: { scope, limit: String(points) },
      headers: { "retry-after": String(retrySeconds) },
      details: [
        { desc: RetryInfoSchema, value: { retryDelay: durationFromMs(retrySeconds * 1000) } },
      ],
    },
  );
}
