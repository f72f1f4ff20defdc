/**
 * The hardening battery: the real server on a real port, attacked with raw HTTP/1.1 and HTTP/2
 * (node:net, node:http2: ordinary clients refuse to send most of this). After every case the
 * same process still serves a canary call on a new connection, the events in the database
 * are the ones it had, nothing was logged as an error or thrown uncaught, and its file
 * descriptors and heap are back near where they were before the first case.
 */
import http2 from "node:http2";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { CreateEventRequestSchema, ListEventsRequestSchema } from "@grouppe/api";
import { eventually } from "@grouppe/testkit";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../src/testing/index.js";
import { eventInput } from "../support/event-input.js";
import { expectBackNearBaseline, openFds, ownResources, type Resources } from "./resources.js";
import {
  allOf,
  type CodeName,
  connectCode,
  envelope,
  everyProtocol,
  frame,
  grpcCode,
  grpcStatus,
  h1,
  h2,
  h2Preface,
  malformedListEventsRequests,
  type RawAnswer,
  rawSocket,
} from "./wire.js";

const readMaxBytes = 65_536;
const requestTimeoutMs = 1_000;
const keepaliveIntervalMs = 1_000;
const keepaliveTimeoutMs = 500;

/** How far file descriptors and the heap (after a forced GC) may be above the baseline. */
const resourceSlack: Resources = { fds: 20, heapBytes: 32 * 2 ** 20 };
const measured: string[] = [];

const listEvents = "/grouppe.v1.EventService/ListEvents";
const createEvent = "/grouppe.v1.EventService/CreateEvent";

/**
 * The protocol engine (packages/engine) serves these routes and answers a binary message it
 * cannot parse with INVALID_ARGUMENT; so does the stock path (malformed-binary.test.ts).
 */
const unparsableBinary: CodeName = "invalid_argument";

let server: TestServer;
let token = "";
let knownEvents: string[] = [];
let errorLinesBefore = 0;
let fdsBefore = 0;
let baseline: Resources;
/** When set, the event store's list throws it: a fault no handler expects. */
let storeFault: Error | undefined;
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);

/** Every event id in the database, read over a new connection (the canary call). */
async function eventIds(): Promise<string[]> {
  const answer = await h1(server.baseUrl, {
    path: listEvents,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      endsAfter: "0001-01-01T00:00:00Z",
      includeCancelled: true,
      pageSize: 100,
    }),
  });
  expect(answer.status).toBe(200);
  const { events = [] } = JSON.parse(answer.body.toString("utf8")) as { events?: { id: string }[] };
  return events.map((e) => e.id).sort();
}

function errorLines(): string[] {
  return server.logs.filter((line) => /"level":(50|60)/.test(line));
}

beforeAll(async () => {
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUncaught);
  server = await startTestServer(
    {
      GROUPPE_READ_MAX_BYTES: String(readMaxBytes),
      GROUPPE_REQUEST_TIMEOUT_MS: String(requestTimeoutMs),
      GROUPPE_HEADERS_TIMEOUT_MS: String(requestTimeoutMs),
      GROUPPE_KEEPALIVE_INTERVAL_MS: String(keepaliveIntervalMs),
      GROUPPE_KEEPALIVE_TIMEOUT_MS: String(keepaliveTimeoutMs),
      GROUPPE_MAX_CONCURRENT_STREAMS: "100",
    },
    {
      decorateStores: (stores) => ({
        ...stores,
        events: {
          ...stores.events,
          list: (query) => (storeFault ? Promise.reject(storeFault) : stores.events.list(query)),
        },
      }),
    },
  );
  const signUp = await h1(server.baseUrl, {
    path: "/grouppe.v1.AuthService/SignUp",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      email: "ada@example.com",
      password: "correct horse",
      displayName: "Ada",
    }),
  });
  token = (JSON.parse(signUp.body.toString()) as { session: { accessToken: string } }).session
    .accessToken;
  const created = await h1(server.baseUrl, {
    path: createEvent,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ event: eventJson() }),
  });
  expect(created.status).toBe(200);
  knownEvents = await eventIds();
  errorLinesBefore = errorLines().length;
  baseline = await ownResources();
  fdsBefore = baseline.fds;
}, 60_000);

afterEach(async ({ task }) => {
  // The canary: a new connection, a call that reads the database, the same events as before.
  expect(await eventIds()).toEqual(knownEvents);
  expect(errorLines().slice(errorLinesBefore)).toEqual([]);
  expect(uncaught).toEqual([]);
  // The server runs in this process: its sockets and heap are this process's. The slack
  // covers the test's own sockets closing late and what the first cases leave in caches.
  const after = await expectBackNearBaseline(baseline, ownResources, resourceSlack, {
    what: `resources after "${task.name}"`,
  });
  measured.push(`${task.name}: ${after.fds} fds, ${(after.heapBytes / 2 ** 20).toFixed(1)} MiB`);
});

afterAll(async () => {
  if (process.env.GROUPPE_PRINT_RESOURCES) console.log(measured.join("\n"));
  process.off("uncaughtException", onUncaught);
  process.off("unhandledRejection", onUncaught);
  await server?.close();
});

function eventJson() {
  const event = eventInput();
  return {
    title: event.title,
    startsAt: new Date(Number(event.startsAt?.seconds) * 1000).toISOString(),
    endsAt: new Date(Number(event.endsAt?.seconds) * 1000).toISOString(),
    timeZone: event.timeZone,
    location: { address: "Hafenstrasse 1, Hamburg" },
    capacity: 10,
  };
}

describe("malformed messages", () => {
  it("answers malformed JSON with INVALID_ARGUMENT on every protocol", async () => {
    for (const json of ['{"pageSize":', "[1,2]", '{"pageSize":"many"}', "\xff\xfe"]) {
      const result = await everyProtocol(server.baseUrl, listEvents, { json });
      expect(result, json).toEqual(allOf(result, "invalid_argument"));
    }
  });

  it("answers malformed protobuf without touching anything, on every protocol", async () => {
    for (const [label, binary] of Object.entries(malformedListEventsRequests)) {
      const result = await everyProtocol(server.baseUrl, listEvents, { binary });
      expect(result, label).toEqual(allOf(result, unparsableBinary));
    }
  });

  it("answers a truncated gRPC envelope as the client's error", async () => {
    const message = Buffer.from(toBinary(ListEventsRequestSchema, create(ListEventsRequestSchema)));
    const head = envelope(Buffer.alloc(100)).subarray(0, 5);
    const answer = await h2(server.baseUrl, {
      path: listEvents,
      headers: { "content-type": "application/grpc", te: "trailers" },
      body: Buffer.concat([head, message]),
    });
    // connect-es calls a body that ends inside its envelope a missing message (UNIMPLEMENTED):
    // the client's fault either way, never INTERNAL.
    expect([grpcCode.invalid_argument, 12]).toContain(grpcStatus(answer));
  });
});

describe("out-of-range values (property-based)", () => {
  const outOfRangeSeconds = fc.oneof(
    fc.bigInt({ min: -(2n ** 63n), max: -62_135_596_801n }),
    fc.bigInt({ min: 253_402_300_800n, max: 2n ** 63n - 1n }),
  );
  const badNanos = fc.oneof(
    fc.integer({ min: -(2 ** 31), max: -1 }),
    fc.integer({ min: 1_000_000_000, max: 2 ** 31 - 1 }),
  );
  const badTimestamp = fc.oneof(
    outOfRangeSeconds.map((seconds) => create(TimestampSchema, { seconds })),
    badNanos.map((nanos) => create(TimestampSchema, { nanos })),
  );

  it("refuses every out-of-range timestamp and int32 in binary requests", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          badTimestamp.map((t) => ({ path: listEvents, body: { endsAfter: t } as object })),
          badTimestamp.map((t) => ({ path: listEvents, body: { startsBefore: t } as object })),
          fc
            .integer({ min: -(2 ** 31), max: -1 })
            .map((pageSize) => ({ path: listEvents, body: { pageSize } as object })),
          fc.tuple(badTimestamp, fc.constantFrom("startsAt", "endsAt")).map(([t, field]) => ({
            path: createEvent,
            body: { event: { ...eventInput(), [field]: t } } as object,
          })),
          fc
            .oneof(
              fc.integer({ min: -(2 ** 31), max: -1 }),
              fc.integer({ min: 100_001, max: 2 ** 31 - 1 }),
            )
            .map((capacity) => ({
              path: createEvent,
              body: { event: { ...eventInput(), capacity } } as object,
            })),
        ),
        async ({ path, body }) => {
          const schema = path === listEvents ? ListEventsRequestSchema : CreateEventRequestSchema;
          const bytes = Buffer.from(
            toBinary(
              schema as typeof ListEventsRequestSchema,
              create(schema as typeof ListEventsRequestSchema, body as never),
            ),
          );
          const answer = await h1(server.baseUrl, {
            path,
            headers: { "content-type": "application/proto", authorization: `Bearer ${token}` },
            body: bytes,
          });
          expect(connectCode(answer)).toBe("invalid_argument");
        },
      ),
      { numRuns: 40 },
    );
  });

  it("refuses every out-of-range timestamp, number and string in JSON requests", async () => {
    const badJsonTime = fc.constantFrom(
      "10000-01-01T00:00:00Z",
      "0000-12-31T23:59:59Z",
      "-0001-01-01T00:00:00Z",
      "2030-13-01T00:00:00Z",
      "2030-01-01T00:00:00.0000000000Z",
      "1e300",
      "",
    );
    const badInt32 = fc.constantFrom(
      "2147483648",
      "-2147483649",
      "1e300",
      "1.5",
      '"NaN"',
      '"Infinity"',
      "null1",
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          badJsonTime.map((t) => ({ path: listEvents, body: `{"endsAfter":"${t}"}` })),
          badInt32.map((n) => ({ path: listEvents, body: `{"pageSize":${n}}` })),
          badInt32.map((n) => ({
            path: createEvent,
            body: JSON.stringify({ event: eventJson() }).replace(
              '"capacity":10',
              `"capacity":${n}`,
            ),
          })),
          fc.constantFrom("\\ud800", "\\udfff", "\\ufffd").map((sequence) => ({
            path: createEvent,
            body: JSON.stringify({ event: eventJson() }).replace("Svelte meetup", `x${sequence}y`),
          })),
        ),
        async ({ path, body }) => {
          const answer = await h1(server.baseUrl, {
            path,
            headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
            body,
          });
          expect(connectCode(answer), body).toBe("invalid_argument");
        },
      ),
      { numRuns: 40 },
    );
  });

  it("refuses a title of bytes that are not UTF-8", async () => {
    const json = Buffer.from(JSON.stringify({ event: { ...eventJson(), title: "@@@@@" } }));
    Buffer.from([0x41, 0xe9, 0x28, 0xe9, 0x42]).copy(json, json.indexOf("@@@@@"));
    const result = await everyProtocol(server.baseUrl, createEvent, { json });
    expect(result).not.toHaveProperty("ok");
    for (const code of Object.values(result))
      expect(["invalid_argument", "unauthenticated"]).toContain(code);
    const signedIn = await h1(server.baseUrl, {
      path: createEvent,
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: json,
    });
    expect(connectCode(signedIn)).toBe("invalid_argument");
  });
});

describe("sizes and compression", () => {
  it("refuses a message one byte over the limit, and takes one at the limit", async () => {
    const query = (length: number) =>
      Buffer.from(
        toBinary(
          ListEventsRequestSchema,
          create(ListEventsRequestSchema, { query: "x".repeat(length) }),
        ),
      );
    // Tag and a 3-byte length prefix: 4 bytes of framing around the query.
    const atLimit = query(readMaxBytes - 4);
    expect(atLimit.length).toBe(readMaxBytes);
    const over = query(readMaxBytes - 3);
    const connect = (body: Buffer) =>
      h1(server.baseUrl, {
        path: listEvents,
        headers: { "content-type": "application/proto" },
        body,
      });
    // At the limit the message is read and reaches validation (query is at most 200 characters).
    expect(connectCode(await connect(atLimit))).toBe("invalid_argument");
    expect(connectCode(await connect(over))).toBe("resource_exhausted");
    const grpc = await h2(server.baseUrl, {
      path: listEvents,
      headers: { "content-type": "application/grpc", te: "trailers" },
      body: envelope(over),
    });
    expect(grpcStatus(grpc)).toBe(grpcCode.resource_exhausted);
  });

  it("stops inflating gzip and brotli bombs at the limit", async () => {
    // 8 MiB of JSON whitespace: 128 times the limit, a few KiB compressed.
    const inflated = Buffer.from(`{"query":"${" ".repeat(8 * 1024 * 1024)}"}`);
    for (const [encoding, bomb] of [
      ["gzip", gzipSync(inflated, { level: 9 })],
      ["br", brotliCompressSync(inflated)],
    ] as const) {
      expect(bomb.length).toBeLessThan(100_000);
      const connect = await h1(server.baseUrl, {
        path: listEvents,
        headers: { "content-type": "application/json", "content-encoding": encoding },
        body: bomb,
      });
      expect(connectCode(connect), encoding).toBe("resource_exhausted");
      const grpc = await h2(server.baseUrl, {
        path: listEvents,
        headers: {
          "content-type": "application/grpc+json",
          "grpc-encoding": encoding === "br" ? "br" : "gzip",
          te: "trailers",
        },
        body: envelope(bomb, 1),
      });
      expect(grpcStatus(grpc), encoding).toBe(grpcCode.resource_exhausted);
    }
  });

  it("refuses huge headers on HTTP/1.1 and HTTP/2", async () => {
    const huge = "x".repeat(100_000);
    const h1Answer = await rawSocket(
      server.port,
      [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Huge: ${huge}\r\n\r\n`],
      { giveUpMs: 5_000 },
    );
    expect(h1Answer.received.toString("latin1")).toMatch(/^HTTP\/1\.1 431/);
    const h2Answer = await h2(server.baseUrl, {
      path: "/healthz",
      headers: { "x-huge": huge },
    }).catch((error: Error) => error);
    // nghttp2 refuses the header block: the stream or the session ends, never a 200.
    expect(h2Answer instanceof Error ? "refused" : h2Answer.status).not.toBe(200);
  });
});

describe("HTTP/2 floods", () => {
  it("survives rapid reset (streams opened and cancelled at once)", async () => {
    const session = http2.connect(server.baseUrl);
    session.on("error", () => undefined);
    await new Promise<void>((resolve) => session.once("connect", () => resolve()));
    for (let i = 0; i < 2_000 && !session.destroyed && !session.closed; i++) {
      const stream = session.request({
        ":method": "POST",
        ":path": listEvents,
        "content-type": "application/json",
      });
      stream.on("error", () => undefined);
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }
    // A PING is answered after every frame sent before it: the server has seen each reset
    // (or has closed the connection, which answers too).
    await new Promise<void>((resolve) => {
      if (session.destroyed || session.closed || !session.ping(() => resolve())) resolve();
      session.once("close", () => resolve());
    });
    session.destroy();
  });

  it("cuts SETTINGS and CONTINUATION floods", async () => {
    const settings = Buffer.concat(Array.from({ length: 20_000 }, () => frame(0x4, 0, 0)));
    const settingsFlood = await rawSocket(server.port, [h2Preface, settings], { giveUpMs: 5_000 });
    // HEADERS without END_HEADERS, then CONTINUATION frames that never end the block.
    const continuation = frame(0x9, 0, 1, Buffer.alloc(16_000, 0x40));
    const continuationFlood = await rawSocket(
      server.port,
      [
        h2Preface,
        frame(0x1, 0x1, 1, Buffer.from([0x82])),
        ...Array.from({ length: 200 }, () => continuation),
      ],
      { giveUpMs: 5_000 },
    );
    expect(settingsFlood.closedAfterMs).toBeGreaterThanOrEqual(0);
    expect(continuationFlood.closedAfterMs).toBeGreaterThanOrEqual(0);
  });
});

describe("slowloris", () => {
  it("cuts slow headers and slow bodies on HTTP/1.1 and h2c", async () => {
    const giveUpMs = 8_000;
    const trickle = (count: number, byte: string) => Array.from({ length: count }, () => byte);
    const h2SlowBody = async () => {
      const session = http2.connect(server.baseUrl);
      session.on("error", () => undefined);
      const started = performance.now();
      const cut = await Promise.all(
        Array.from({ length: 20 }, () => {
          const stream = session.request({
            ":method": "POST",
            ":path": createEvent,
            "content-type": "application/grpc",
            te: "trailers",
          });
          stream.on("error", () => undefined);
          stream.write(Buffer.from([0]));
          const drip = setInterval(() => stream.write(Buffer.from([0])), 200);
          return new Promise<number>((resolve) => {
            const giveUp = setTimeout(() => resolve(-1), giveUpMs);
            stream.on("close", () => {
              clearInterval(drip);
              clearTimeout(giveUp);
              resolve(
                stream.rstCode === http2.constants.NGHTTP2_CANCEL
                  ? performance.now() - started
                  : -2,
              );
            });
          });
        }),
      );
      session.destroy();
      return cut;
    };
    // A server stream whose request body ended long ago must outlive the body timeout.
    const watchOutlivesBodyTimeout = async () => {
      const session = http2.connect(server.baseUrl);
      session.on("error", () => undefined);
      const stream = session.request({
        ":method": "POST",
        ":path": "/grpc.health.v1.Health/Watch",
        "content-type": "application/grpc",
        te: "trailers",
      });
      stream.on("error", () => undefined);
      stream.on("data", () => undefined);
      stream.end(envelope(new Uint8Array(0)));
      await new Promise((resolve) => setTimeout(resolve, requestTimeoutMs + 1_500));
      const open = !stream.closed;
      session.destroy();
      return open;
    };
    const [headers, body, h2Headers, h2Body, watchOpen] = await Promise.all([
      rawSocket(server.port, ["GET /healthz HTTP/1.1\r\n", ...trickle(40, "X-Slow: 1\r\n")], {
        gapMs: 200,
        giveUpMs,
      }),
      rawSocket(
        server.port,
        [
          `POST ${createEvent} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`,
          ...trickle(40, " "),
        ],
        { gapMs: 200, giveUpMs },
      ),
      // A header block that is never finished: the connection's keepalive ping goes unanswered.
      rawSocket(server.port, [h2Preface, frame(0x1, 0, 1, Buffer.from([0x83]))], { giveUpMs }),
      h2SlowBody(),
      watchOutlivesBodyTimeout(),
    ]);
    expect(watchOpen).toBe(true);
    // Node checks HTTP/1.1 timeouts once a second; the rest is room for a loaded machine.
    const window = [0, requestTimeoutMs + 4_000];
    for (const [name, closedAfterMs] of [
      ["HTTP/1.1 headers", headers.closedAfterMs],
      ["HTTP/1.1 body", body.closedAfterMs],
      ["h2c unfinished headers", h2Headers.closedAfterMs],
      ...h2Body.map((ms) => ["h2c body", ms] as const),
    ] as const) {
      expect(closedAfterMs, name).toBeGreaterThan(window[0] ?? 0);
      expect(closedAfterMs, name).toBeLessThan(window[1] ?? 0);
    }
  }, 15_000);
});

describe("faults behind a handler", () => {
  it("answers an unexpected error as INTERNAL with only the request id, and logs its cause", async () => {
    storeFault = new Error("disk on fire at sector 7", {
      cause: new Error("the controller said no"),
    });
    const secrets = [/disk on fire/, /controller said no/, /\bat .*\.(ts|js):\d+/];
    try {
      const answers: [string, RawAnswer][] = [];
      for (const [label, call, contentType, body] of [
        ["connect+json h1", h1, "application/json", "{}"],
        ["connect+proto h2", h2, "application/proto", Buffer.alloc(0)],
        ["grpc h2", h2, "application/grpc", envelope(new Uint8Array(0))],
        ["grpc-web h1", h1, "application/grpc-web+proto", envelope(new Uint8Array(0))],
      ] as const) {
        const answer = await call(server.baseUrl, {
          path: listEvents,
          headers: {
            "content-type": contentType,
            te: "trailers",
            "x-request-id": `fault-${label.replace(/\W/g, "-")}`,
          },
          body,
        });
        answers.push([label, answer]);
      }
      for (const [label, answer] of answers) {
        const requestId = `fault-${label.replace(/\W/g, "-")}`;
        const message = label.startsWith("connect")
          ? (JSON.parse(answer.body.toString("utf8")) as { code: string; message: string })
          : undefined;
        if (message) {
          expect(message.code, label).toBe("internal");
          expect(message.message, label).toBe(
            `internal error; quote request id ${requestId} when reporting it`,
          );
        } else {
          expect(grpcStatus(answer), label).toBe(grpcCode.internal);
        }
        const everything = [
          JSON.stringify(answer.headers),
          JSON.stringify(answer.trailers),
          answer.body.toString("latin1"),
          // grpc-status-details-bin carries the ErrorInfo; its text must not hold the cause either.
          Buffer.from(answer.trailers["grpc-status-details-bin"] ?? "", "base64").toString(
            "latin1",
          ),
        ].join("\n");
        expect(everything, label).toContain(requestId);
        for (const secret of secrets) expect(everything, label).not.toMatch(secret);
        // The operator's side: one error line with the request id, the cause and its stack.
        const logged = errorLines()
          .slice(errorLinesBefore)
          .map(
            (line) =>
              JSON.parse(line) as {
                requestId?: string;
                msg?: string;
                err?: { message: string; stack: string };
              },
          )
          .filter((line) => line.requestId === requestId && line.msg === "rpc failed");
        expect(logged, label).toHaveLength(1);
        expect(logged[0]?.err?.message).toContain("disk on fire");
        expect(logged[0]?.err?.stack).toMatch(/controller said no/);
      }
    } finally {
      storeFault = undefined;
      // Those error lines were the point of the case.
      errorLinesBefore = errorLines().length;
    }
  });
});

describe("afterwards", () => {
  it("has released the file descriptors the attacks used", async () => {
    // Sockets the attacks left are closed by the server a moment after their connections end.
    let open = openFds();
    await eventually(
      () => {
        open = openFds();
        return open - fdsBefore < 20;
      },
      {
        what: "file descriptors back near the baseline",
        timeoutMs: 30_000,
      },
    ).catch(() => undefined);
    expect(open - fdsBefore, `${open} open now, ${fdsBefore} before the attacks`).toBeLessThan(20);
  });
});
