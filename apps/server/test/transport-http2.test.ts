import http2 from "node:http2";
import net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { HealthCheckRequestSchema } from "@grouppe/api/health";
import { eventually } from "@grouppe/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../src/testing/index.js";

const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const frameType = { settings: 0x4, ping: 0x6, goaway: 0x7 } as const;

function frame(type: number, flags: number, payload = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(0, 5);
  return Buffer.concat([header, payload]);
}

/**
 * A raw HTTP/2 client that completes the SETTINGS exchange and then never answers a PING: what
 * a peer that vanished without closing its socket looks like to the server.
 */
function deafClient(port: number): { frames: number[]; closed: Promise<void> } {
  const socket = net.connect(port, "127.0.0.1");
  const frames: number[] = [];
  let buffered = Buffer.alloc(0);
  socket.on("connect", () => socket.write(Buffer.concat([preface, frame(frameType.settings, 0)])));
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 9) {
      const length = buffered.readUIntBE(0, 3);
      if (buffered.length < 9 + length) break;
      const type = buffered.readUInt8(3);
      const flags = buffered.readUInt8(4);
      frames.push(type);
      if (type === frameType.settings && (flags & 0x1) === 0)
        socket.write(frame(frameType.settings, 0x1));
      buffered = buffered.subarray(9 + length);
    }
  });
  socket.on("error", () => undefined);
  return { frames, closed: new Promise((resolve) => socket.on("close", () => resolve())) };
}

/** A gRPC request body: one uncompressed length-prefixed message. */
function grpcMessage(bytes: Uint8Array): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([prefix, bytes]);
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms),
    ),
  ]);
}

describe("HTTP/2 keepalive, stream limit and HTTP/1.1 timeouts", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      // A ping answer can wait on a busy event loop (the client's, in this very process), so the
      // allowance is seconds: a short one would drop a healthy connection on a slow machine.
      GROUPPE_KEEPALIVE_INTERVAL_MS: "1000",
      GROUPPE_KEEPALIVE_TIMEOUT_MS: "4000",
      GROUPPE_HEADERS_TIMEOUT_MS: "500",
      GROUPPE_MAX_CONCURRENT_STREAMS: "7",
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  it("advertises the configured limit on concurrent streams", async () => {
    const session = http2.connect(server.baseUrl);
    const settings = await within(
      new Promise<http2.Settings>((resolve) => session.once("remoteSettings", resolve)),
      10_000,
      "SETTINGS frame",
    );
    expect(settings.maxConcurrentStreams).toBe(7);
    session.close();
  });

  it("pings an idle connection and drops it when the ping goes unanswered", async () => {
    const client = deafClient(server.port);
    await within(client.closed, 25_000, "close of the deaf connection");
    expect(client.frames).toContain(frameType.ping);
  });

  it("keeps an idle connection whose client answers pings", async () => {
    const session = http2.connect(server.baseUrl);
    let pings = 0;
    session.on("ping", () => pings++);
    await eventually(() => pings >= 2, { what: "two keepalive pings", timeoutMs: 15_000 });
    expect(session.closed || session.destroyed).toBe(false);
    const status = await new Promise<number>((resolve, reject) => {
      const stream = session.request({ ":path": "/healthz" });
      stream.on("response", (headers) => resolve(Number(headers[":status"])));
      stream.on("error", reject);
      stream.resume();
    });
    expect(status).toBe(200);
    session.close();
  });

  it("closes a connection that never sends its first bytes", async () => {
    const socket = net.connect(server.port, "127.0.0.1");
    socket.on("error", () => undefined);
    await within(
      new Promise((resolve) => socket.on("close", resolve)),
      15_000,
      "close of the silent connection",
    );
  });

  it("answers 408 and closes when HTTP/1.1 headers never finish", async () => {
    const socket = net.connect(server.port, "127.0.0.1");
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
    socket.on("error", () => undefined);
    socket.on("connect", () =>
      socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: "),
    );
    await within(
      new Promise((resolve) => socket.on("close", resolve)),
      15_000,
      "close of the slow request",
    );
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
  });
});

describe("HTTP/2 maximum connection age", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      GROUPPE_MAX_CONNECTION_AGE_MS: "1000",
      GROUPPE_MAX_CONNECTION_AGE_GRACE_MS: "1000",
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  it("sends GOAWAY to a connection past its age, lets its stream run through the grace period, then cuts it", async () => {
    const session = http2.connect(server.baseUrl);
    session.on("error", () => undefined);
    const events: string[] = [];
    session.on("goaway", (code: number) => events.push(`goaway ${code}`));
    const stream = session.request({
      ":method": "POST",
      ":path": "/grpc.health.v1.Health/Watch",
      "content-type": "application/grpc",
      te: "trailers",
    });
    stream.on("error", () => undefined);
    let messages = 0;
    stream.on("data", () => messages++);
    stream.on("close", () => events.push("stream closed"));
    stream.end(
      grpcMessage(
        toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: "" })),
      ),
    );

    await eventually(() => events.includes("stream closed"), {
      what: "the end of the stream",
      timeoutMs: 20_000,
    });
    expect(messages).toBeGreaterThan(0);
    // GOAWAY came while the stream was open; the stream only ended after it (a second GOAWAY
    // comes with the forced close at the end of the grace period).
    expect(events[0]).toBe(`goaway ${http2.constants.NGHTTP2_NO_ERROR}`);
    expect(events.at(-1)).toBe("stream closed");
    expect(new Set(events.slice(0, -1))).toEqual(
      new Set([`goaway ${http2.constants.NGHTTP2_NO_ERROR}`]),
    );

    // The server still takes new connections.
    const fresh = http2.connect(server.baseUrl);
    const status = await new Promise<number>((resolve, reject) => {
      const request = fresh.request({ ":path": "/healthz" });
      request.on("response", (headers) => resolve(Number(headers[":status"])));
      request.on("error", reject);
      request.resume();
    });
    expect(status).toBe(200);
    fresh.close();
  });

  it("lets an idle connection past its age go without errors", async () => {
    const session = http2.connect(server.baseUrl);
    let goaway: number | undefined;
    let failure: unknown;
    session.on("goaway", (code: number) => (goaway = code));
    session.on("error", (error) => (failure = error));
    await within(
      new Promise((resolve) => session.on("close", resolve)),
      20_000,
      "close of the aged connection",
    );
    expect(goaway).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(failure).toBeUndefined();
  });
});
