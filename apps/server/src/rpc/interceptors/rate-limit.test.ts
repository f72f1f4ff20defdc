import { randomUUID } from "node:crypto";
import http2 from "node:http2";
import net, { type AddressInfo } from "node:net";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  createClient,
  createContextValues,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import {
  connectNodeAdapter,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { AuthService } from "@grouppe/api";
import { Health, HealthCheckResponse_ServingStatus } from "@grouppe/api/health";
import { ErrorInfoSchema, RetryInfoSchema } from "@grouppe/api/rpc";
import { postgresAvailable } from "@grouppe/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  createMigratedTestDatabase,
  type MigratedTestDatabase,
} from "../../../test/support/migrated-database.js";
import type { Config } from "../../config.js";
import type { Db } from "../../store/db.js";
import { callerKey, peerKey } from "../context.js";
import { createRateLimitInterceptor, type RateLimitOptions } from "./rate-limit.js";

const roomy: Config["rateLimit"] = {
  perUser: 1000,
  perIp: 1000,
  perService: 1000,
  authPerIp: 1000,
  syncMs: 1000,
};

/**
 * Stands in for the authentication interceptor, which this test does not exercise: it takes
 * the caller from an `x-caller` header ("user:<id>" or "service:<principal>").
 */
const callerFromHeader: Interceptor = (next) => async (req) => {
  const [kind, id] = (req.header.get("x-caller") ?? "").split(/:(.*)/s);
  if (kind === "user" && id) req.contextValues.set(callerKey, { kind: "user", userId: id });
  if (kind === "service" && id)
    req.contextValues.set(callerKey, { kind: "service", principal: id });
  return next(req);
};

function routes(router: ConnectRouter): void {
  router.service(Health, {
    check: () => ({ status: HealthCheckResponse_ServingStatus.SERVING }),
    async *watch() {
      yield { status: HealthCheckResponse_ServingStatus.SERVING };
    },
  });
  router.service(AuthService, {
    logIn: () => {
      throw new ConnectError("wrong email or password", Code.Unauthenticated);
    },
  });
}

interface TestServer {
  url: string;
  /** Background shares of rate counts that completed (with `store: "postgres"`). */
  syncs(): number;
  close(): Promise<void>;
}

const servers: TestServer[] = [];

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A real h2c server on the loopback interface. */
async function startServer(options: RateLimitOptions): Promise<TestServer> {
  const stop = new AbortController();
  let syncs = 0;
  const server = http2.createServer(
    connectNodeAdapter({
      routes,
      interceptors: [
        callerFromHeader,
        createRateLimitInterceptor({
          signal: stop.signal,
          onSynced: () => void syncs++,
          ...options,
        }),
      ],
      contextValues: (req) =>
        createContextValues().set(peerKey, {
          ip: req.socket.remoteAddress ?? "",
          requestId: randomUUID(),
        }),
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const started: TestServer = {
    url: `http://127.0.0.1:${port}`,
    syncs: () => syncs,
    close: () => {
      stop.abort();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  servers.push(started);
  return started;
}

/** "ok" for a successful call, else the name of the status code it failed with. */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (error) {
    return Code[ConnectError.from(error).code];
  }
}

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("the call succeeded");
}

function health(transport: Transport, caller?: string) {
  const client = createClient(Health, transport);
  const headers = caller ? { "x-caller": caller } : undefined;
  return {
    check: () => client.check({}, { headers }),
    watch: async () => {
      for await (const _ of client.watch({}, { headers })) break;
    },
  };
}

async function times(count: number, call: () => Promise<unknown>): Promise<string[]> {
  const outcomes: string[] = [];
  for (let i = 0; i < count; i++) outcomes.push(await outcome(call()));
  return outcomes;
}

function expectRateLimited(error: ConnectError): number {
  expect(error.code).toBe(Code.ResourceExhausted);
  const [retry] = error.findDetails(RetryInfoSchema);
  const seconds = Number(retry?.retryDelay?.seconds);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThanOrEqual(60);
  expect(error.metadata.get("retry-after")).toBe(String(seconds));
  expect(error.findDetails(ErrorInfoSchema)[0]?.reason).toBe("RATE_LIMITED");
  return seconds;
}

/**
 * Connections from a chosen loopback address: the whole of 127.0.0.0/8 reaches the server, so
 * 127.0.0.2 is a second client IP.
 */
function fromAddress(localAddress: string) {
  return {
    createConnection: (authority: URL) =>
      net.connect({ host: authority.hostname, port: Number(authority.port), localAddress }),
  };
}

function grpc(baseUrl: string, localAddress = "127.0.0.1"): Transport {
  return createGrpcTransport({ baseUrl, nodeOptions: fromAddress(localAddress) });
}

const transports = {
  gRPC: (baseUrl: string) => grpc(baseUrl),
  "gRPC-Web": (baseUrl: string) => createGrpcWebTransport({ baseUrl, httpVersion: "2" }),
};

describe("rate limits in memory", () => {
  for (const [protocol, transport] of Object.entries(transports)) {
    it(`fails the call past a user's limit over ${protocol}, and only for that user`, async () => {
      const server = await startServer({ limits: { ...roomy, perUser: 3 } });
      const alice = health(transport(server.url), "user:alice");
      expect(await times(3, alice.check)).toEqual(["ok", "ok", "ok"]);
      const error = await failure(alice.check());
      expectRateLimited(error);
      expect(error.rawMessage).toMatch(
        /^too many calls: at most 3 per minute per user; retry in \d+s$/,
      );
      expect(await outcome(health(transport(server.url), "user:bob").check())).toBe("ok");
      expect(await outcome(alice.check())).toBe("ResourceExhausted");
    });
  }

  it("answers Connect JSON past the limit with HTTP 429, Retry-After and RetryInfo", async () => {
    const server = await startServer({ limits: { ...roomy, perUser: 2 } });
    const session = http2.connect(server.url);
    const post = (caller: string) =>
      new Promise<{ status: number; retryAfter: string | undefined; body: string }>(
        (resolve, reject) => {
          const request = session.request({
            ":method": "POST",
            ":path": "/grpc.health.v1.Health/Check",
            "content-type": "application/json",
            "x-caller": caller,
          });
          let body = "";
          let head: http2.IncomingHttpHeaders = {};
          request.setEncoding("utf8");
          request.on("response", (headers) => {
            head = headers;
          });
          request.on("data", (chunk: string) => {
            body += chunk;
          });
          request.on("end", () =>
            resolve({
              status: Number(head[":status"]),
              retryAfter: head["retry-after"] as string | undefined,
              body,
            }),
          );
          request.on("error", reject);
          request.end("{}");
        },
      );
    try {
      expect((await post("user:alice")).status).toBe(200);
      expect((await post("user:alice")).status).toBe(200);
      const limited = await post("user:alice");
      expect(limited.status).toBe(429);
      expect(limited.retryAfter).toMatch(/^\d+$/);
      const body = JSON.parse(limited.body) as { code: string; details: { type: string }[] };
      expect(body.code).toBe("resource_exhausted");
      expect(body.details.map((detail) => detail.type)).toEqual(
        expect.arrayContaining(["google.rpc.RetryInfo", "google.rpc.ErrorInfo"]),
      );
      expect((await post("user:bob")).status).toBe(200);
    } finally {
      session.close();
    }
  });

  it("counts anonymous callers per IP, apart from signed-in users and services", async () => {
    const server = await startServer({ limits: { ...roomy, perIp: 2 } });
    const anonymousV4 = health(grpc(server.url));
    expect(await times(3, anonymousV4.check)).toEqual(["ok", "ok", "ResourceExhausted"]);
    expect(await outcome(health(grpc(server.url, "127.0.0.2")).check())).toBe("ok");
    expect(await outcome(health(grpc(server.url), "user:carol").check())).toBe("ok");
    const importer = health(grpc(server.url), "service:spiffe://grouppe.internal/service/importer");
    expect(await outcome(importer.check())).toBe("ok");
  });

  it("counts service principals each on their own", async () => {
    const server = await startServer({ limits: { ...roomy, perService: 2 } });
    const transport = grpc(server.url);
    const importer = health(transport, "service:spiffe://grouppe.internal/service/importer");
    const mailer = health(transport, "service:spiffe://grouppe.internal/service/mailer");
    expect(await times(3, importer.check)).toEqual(["ok", "ok", "ResourceExhausted"]);
    expect(await outcome(mailer.check())).toBe("ok");
  });

  it("counts streaming calls too, once per call", async () => {
    const server = await startServer({ limits: { ...roomy, perUser: 2 } });
    const dave = health(grpc(server.url), "user:dave");
    expect([
      await outcome(dave.watch()),
      await outcome(dave.check()),
      await outcome(dave.watch()),
    ]).toEqual(["ok", "ok", "ResourceExhausted"]);
  });

  it("holds SignUp and LogIn to the stricter per-IP limit, whoever calls", async () => {
    const server = await startServer({ limits: { ...roomy, authPerIp: 2 } });
    const transport = grpc(server.url);
    const auth = createClient(AuthService, transport);
    const logIn = () => auth.logIn({ email: "eve@example.com", password: "guess" });
    expect(await times(3, logIn)).toEqual([
      "Unauthenticated",
      "Unauthenticated",
      "ResourceExhausted",
    ]);
    const error = await failure(
      auth.signUp({ email: "eve@example.com", password: "guessing", displayName: "Eve" }),
    );
    expectRateLimited(error);
    expect(error.rawMessage).toContain("per IP for sign-up and log-in");
    const signedIn = await failure(
      auth.logIn(
        { email: "frank@example.com", password: "guess" },
        { headers: { "x-caller": "user:frank" } },
      ),
    );
    expect(signedIn.code).toBe(Code.ResourceExhausted);
    expect(await outcome(health(transport).check())).toBe("ok");
    const otherIp = createClient(AuthService, grpc(server.url, "127.0.0.2"));
    expect(await outcome(otherIp.logIn({ email: "eve@example.com", password: "guess" }))).toBe(
      "Unauthenticated",
    );
  });

  it("needs a db to keep counters in PostgreSQL", () => {
    expect(() => createRateLimitInterceptor({ limits: roomy, store: "postgres" })).toThrow(
      "rate limits in PostgreSQL need a db",
    );
  });
});

const available = await postgresAvailable();
const unavailable = "skip" in available ? available.skip : null;
if (unavailable) console.warn(`skipping the PostgreSQL rate limit tests: ${unavailable}`);

describe.skipIf(unavailable !== null)("rate limits in PostgreSQL", () => {
  let database: MigratedTestDatabase | undefined;
  let db: Db;

  beforeAll(async () => {
    database = await createMigratedTestDatabase();
    db = database.db;
  });

  afterAll(async () => {
    await database?.drop();
  });

  it("shares counters between servers on the same database, in the background", async () => {
    // Counts live in one-minute windows; a run that crossed a window's end would start
    // counting afresh halfway. The clock the counters read is stopped mid-window (the sync
    // timers run on real time).
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Math.floor(Date.now() / 60_000) * 60_000 + 30_000);
    const limits = { ...roomy, perUser: 4 };
    const syncMs = 20;
    const first = await startServer({ limits, db, syncMs });
    const second = await startServer({ limits, db, syncMs });
    const onFirst = health(grpc(first.url), "user:alice");
    const onSecond = health(grpc(second.url), "user:alice");
    const synced = async (points: number) => {
      await vi.waitFor(
        async () => {
          const [row] = await db.query<{ points: number }>(
            "SELECT points FROM grouppe_rate_limits WHERE key = 'user:alice'",
          );
          expect(row?.points).toBe(points);
        },
        { timeout: 20_000, interval: 20 },
      );
      // A sync that was under way may have read the total before the last points landed; the
      // second one to finish from now on started afterwards, so it read the total back.
      const from = [first.syncs(), second.syncs()];
      await vi.waitFor(
        () => {
          expect(first.syncs()).toBeGreaterThanOrEqual((from[0] ?? 0) + 2);
          expect(second.syncs()).toBeGreaterThanOrEqual((from[1] ?? 0) + 2);
        },
        { timeout: 20_000, interval: syncMs },
      );
    };
    expect(await times(2, onFirst.check)).toEqual(["ok", "ok"]);
    await synced(2);
    expect(await times(2, onSecond.check)).toEqual(["ok", "ok"]);
    await synced(4);
    expectRateLimited(await failure(onFirst.check()));
    expectRateLimited(await failure(onSecond.check()));
    expect(await outcome(health(grpc(second.url), "user:bob").check())).toBe("ok");
  });

  it("counts SignUp and LogIn in the database at once, across servers", async () => {
    const limits = { ...roomy, authPerIp: 3 };
    const first = await startServer({ limits, db, syncMs: 3_600_000 });
    const second = await startServer({ limits, db, syncMs: 3_600_000 });
    const logIn = (url: string) =>
      createClient(AuthService, grpc(url, "127.0.0.3")).logIn({
        email: "eve@example.com",
        password: "guess",
      });
    expect([
      await outcome(logIn(first.url)),
      await outcome(logIn(second.url)),
      await outcome(logIn(first.url)),
      await outcome(logIn(second.url)),
    ]).toEqual(["Unauthenticated", "Unauthenticated", "Unauthenticated", "ResourceExhausted"]);
  });

  it("counts in memory when asked to, even with a PostgreSQL db", async () => {
    const server = await startServer({ limits: { ...roomy, perIp: 1 }, db, store: "memory" });
    const anonymous = health(grpc(server.url));
    expect(await times(2, anonymous.check)).toEqual(["ok", "ResourceExhausted"]);
    expect(await db.query("SELECT key FROM grouppe_rate_limits WHERE key LIKE 'ip:%'")).toEqual([]);
  });
});
