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
}

/** Who a limit is counted per; named in the error's ErrorInfo metadata. */
type Scope = "user" | "service" | "ip" | "auth";

interface Bucket {
  scope: Scope;
  points: number;
  limiter: RateLimiterAbstract;
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
 */
export function createRateLimitInterceptor(options: RateLimitOptions): Interceptor {
  const { limits, db } = options;
  const store = options.store ?? (db?.kind === "postgres" ? "postgres" : "memory");
  let newLimiter = memoryLimiter;
  if (store === "postgres") {
    if (db === undefined) throw new Error("rate limits in PostgreSQL need a db");
    newLimiter = (scope, points) => postgresLimiter(db, scope, points);
  }
  const user = bucket("user", limits.perUser, newLimiter);
  const service = bucket("service", limits.perService, newLimiter);
  const ip = bucket("ip", limits.perIp, newLimiter);
  const auth = bucket("auth", limits.authPerIp, newLimiter);

  return (next) => async (req) => {
    const caller = req.contextValues.get(callerKey);
    const address = clientKey(req.contextValues.get(peerKey).ip);
    if (
      req.method.parent.typeName === AuthService.typeName &&
      authMethodNames.has(req.method.name)
    ) {
      await take(auth, address);
    }
    switch (caller.kind) {
      case "user":
        await take(user, caller.userId);
        break;
      case "service":
        await take(service, caller.principal);
        break;
      case "anonymous":
        await take(ip, address);
        break;
    }
    return next(req);
  };
}

function bucket(
  scope: Scope,
  points: number,
  newLimiter: (scope: Scope, points: number) => RateLimiterAbstract,
) {
  return { scope, points, limiter: newLimiter(scope, points) };
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

async function take({ scope, points, limiter }: Bucket, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    const retrySeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
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
}
