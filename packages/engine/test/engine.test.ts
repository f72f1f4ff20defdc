import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import { type FastifyInstance, fastify } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { fastifyEnginePlugin, offerHttp2Streams, offerRequests } from "../src/index.js";
import {
  aborts,
  collectEnds,
  ProbeSchema,
  sharedReply,
  testRoutes,
  waiting,
} from "./support/test-service.js";
import { send } from "./support/wire-client.js";

const maxTimeoutMs = 300;

/**
 * The same tests with the engine behind its Fastify route, taking HTTP/2 streams itself, and
 * taking requests from the server's 'request' event itself.
 */
describe.each([
  { path: "the Fastify route", streams: false, requests: false },
  { path: "HTTP/2 streams", streams: true, requests: false },
  { path: "requests", streams: false, requests: true },
])("served from $path", ({ streams, requests }) => {
  let app: FastifyInstance;
  let session: http2.ClientHttp2Session;
  /** Requests Fastify routed (its onRequest hook ran). */
  let routed = 0;

  beforeAll(async () => {
    app = fastify({ http2: true }) as unknown as FastifyInstance;
    app.addHook("onRequest", (_request, _reply, done) => {
      routed++;
      done();
    });
    await app.register(fastifyEnginePlugin, {
      routes: testRoutes,
      maxTimeoutMs,
      http2Streams: streams
        ? {
            install: (handler) =>
              offerHttp2Streams(app.server as unknown as http2.Http2Server, handler),
            context: (_stream, headers) => {
              if (headers["x-context-throws"] !== undefined) throw new Error("context failed");
              return { contextValues: createContextValues() };
            },
          }
        : undefined,
      requests: requests
        ? {
            install: (handler) => offerRequests(app.server, handler),
            context: (request) => {
              if (request.headers["x-context-throws"] !== undefined)
                throw new Error("context failed");
              return { contextValues: createContextValues() };
            },
          }
        : undefined,
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    session = http2.connect(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
  });

  afterAll(async () => {
    session?.close();
    await app?.close();
  });

  beforeEach(() => {
    aborts.length = 0;
    routed = 0;
  });

  function grpcBody(probe: Parameters<typeof create<typeof ProbeSchema>>[1]): Buffer {
    const payload = toBinary(ProbeSchema, create(ProbeSchema, probe));
    const frame = Buffer.alloc(5 + payload.byteLength);
    frame.writeUInt32BE(payload.byteLength, 1);
    frame.set(payload, 5);
    return frame;
  }

  function grpc(method: string, body: Uint8Array, headers: Record<string, string> = {}) {
    return send(session, {
      method: "POST",
      path: `/test.v1.TestService/${method}`,
      headers: { "content-type": "application/grpc", te: "trailers", ...headers },
      body,
    });
  }

  describe("deadlines", () => {
    it("ends an expired call with DEADLINE_EXCEEDED and aborts its work", async () => {
      const response = await grpc("Echo", grpcBody({ wait: true }), { "grpc-timeout": "40m" });
      expect(response.trailers["grpc-status"]).toBe(String(Code.DeadlineExceeded));
      expect(aborts).toHaveLength(1);
      expect(ConnectError.from(aborts[0]).code).toBe(Code.DeadlineExceeded);
    });

    it("ends a client stream's input when its deadline passes, so the handler stops reading", async () => {
      const before = collectEnds.length;
      const stream = session.request({
        ":method": "POST",
        ":path": "/test.v1.TestService/Collect",
        "content-type": "application/grpc",
        te: "trailers",
        "grpc-timeout": "40m",
      });
      stream.on("error", () => undefined);
      const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) =>
        stream.on("trailers", resolve),
      );
      stream.resume();
      // One message, then nothing: the handler waits for more until the deadline.
      stream.write(grpcBody({ text: "a" }));
      expect((await trailers)["grpc-status"]).toBe(String(Code.DeadlineExceeded));
      // The client has not reset anything: the deadline alone must end the handler's read.
      await vi.waitFor(() => expect(collectEnds.length).toBe(before + 1), { timeout: 20_000 });
      expect(ConnectError.from(collectEnds[before]).code).toBe(Code.DeadlineExceeded);
      stream.close();
    });

    it("caps a deadline above the maximum instead of refusing it", async () => {
      const started = performance.now();
      const response = await grpc("Count", grpcBody({ count: 1, wait: true }), {
        "grpc-timeout": "100S",
      });
      expect(response.trailers["grpc-status"]).toBe(String(Code.DeadlineExceeded));
      expect(response.body).toHaveLength(1);
      // Ended by the capped deadline, long before the 100 s the client asked for.
      expect(performance.now() - started).toBeLessThan(20_000);
    });
  });

  describe("cancellation", () => {
    it("aborts the handler's signal when the client resets the stream", async () => {
      const stream = session.request({
        ":method": "POST",
        ":path": "/test.v1.TestService/Echo",
        "content-type": "application/grpc",
      });
      stream.on("error", () => undefined);
      const before = waiting.count;
      stream.end(grpcBody({ wait: true }));
      // Reset only once the handler runs, so the reset reaches a call and not a queued request.
      await vi.waitFor(() => expect(waiting.count).toBe(before + 1), { timeout: 20_000 });
      stream.close(http2.constants.NGHTTP2_CANCEL);
      await vi.waitFor(() => expect(aborts).toHaveLength(1), { timeout: 20_000 });
      expect(ConnectError.from(aborts[0]).code).toBe(Code.Canceled);
    });
  });

  describe("malformed requests", () => {
    it("answers malformed binary protobuf with INVALID_ARGUMENT", async () => {
      const garbage = Buffer.from([0, 0, 0, 0, 3, 0x0a, 0xff, 0xff]);
      const response = await grpc("Echo", garbage);
      expect(response.trailers["grpc-status"]).toBe(String(Code.InvalidArgument));
    });

    it("answers malformed JSON with INVALID_ARGUMENT", async () => {
      const response = await send(session, {
        method: "POST",
        path: "/test.v1.TestService/Echo",
        headers: { "content-type": "application/json" },
        body: Buffer.from('{"text": '),
      });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: "invalid_argument" });
    });
  });

  describe("client streams", () => {
    it("reads messages as they arrive, however the body is split", async () => {
      const body = Buffer.concat(["a", "b", "c", "d"].map((text) => grpcBody({ text })));
      const stream = session.request({
        ":method": "POST",
        ":path": "/test.v1.TestService/Collect",
        "content-type": "application/grpc",
      });
      const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) =>
        stream.once("trailers", resolve),
      );
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      // Pieces of 3 bytes: every envelope header and payload is split.
      for (let offset = 0; offset < body.byteLength; offset += 3) {
        stream.write(body.subarray(offset, offset + 3));
        await new Promise((resolve) => setImmediate(resolve));
      }
      stream.end();
      expect((await trailers)["grpc-status"]).toBe("0");
      const answer = Buffer.concat(chunks);
      expect(answer.subarray(5).toString("utf8")).toContain("abcd");
    });
  });

  describe("shared encodings", () => {
    it("encodes a shared message once and writes the same bytes to every stream", async () => {
      const first = await grpc("Count", grpcBody({ count: 1, shared: true }));
      // Changing a shared message is a bug the engine does not notice: later streams still get
      // the first encoding, which shows it was encoded only once.
      const original = sharedReply.text;
      sharedReply.text = "changed";
      try {
        const second = await grpc("Count", grpcBody({ count: 1, shared: true }));
        expect(second.body).toEqual(first.body);
        expect(first.body).toEqual([{ text: original, index: 1 }]);
      } finally {
        sharedReply.text = original;
      }
    });

    it("encodes a shared unary answer once, for gRPC and Connect alike", async () => {
      const connect = () =>
        send(session, {
          method: "POST",
          path: "/test.v1.TestService/Echo",
          headers: { "content-type": "application/json" },
          body: Buffer.from('{"shared": true}'),
        });
      const first = await grpc("Echo", grpcBody({ shared: true }));
      const connectFirst = await connect();
      const original = sharedReply.text;
      sharedReply.text = "changed";
      try {
        const second = await grpc("Echo", grpcBody({ shared: true }));
        const connectSecond = await connect();
        expect(first.body).toEqual([{ text: original, index: 1 }]);
        expect(second.body).toEqual(first.body);
        expect(connectFirst.body).toEqual({ text: original, index: 1 });
        expect(connectSecond.body).toEqual(connectFirst.body);
      } finally {
        sharedReply.text = original;
      }
    });

    it("encodes fresh messages for each stream", async () => {
      const response = await grpc("Count", grpcBody({ count: 2, text: "a" }));
      expect(response.body).toEqual([{ text: "a" }, { text: "a", index: 1 }]);
    });
  });

  describe("routing", () => {
    // Only the direct paths ask the application for a call's context before taking it.
    if (streams || requests)
      it("resets a stream it failed to take, and goes on serving", async () => {
        const stream = session.request({
          ":method": "POST",
          ":path": "/test.v1.TestService/Echo",
          "content-type": "application/grpc",
          "x-context-throws": "1",
        });
        stream.on("error", () => undefined);
        stream.end(grpcBody({}));
        const code = await new Promise<number | undefined>((resolve) =>
          stream.on("close", () => resolve(stream.rstCode)),
        );
        expect(code).toBe(http2.constants.NGHTTP2_INTERNAL_ERROR);
        const response = await grpc("Echo", grpcBody({ text: "after" }));
        expect(response.trailers["grpc-status"]).toBe("0");
      });

    it(
      streams
        ? "takes calls from the stream, leaving Fastify those with a query string"
        : requests
          ? "takes calls from the request, leaving Fastify those with a query string"
          : "routes every call through Fastify",
      async () => {
        const response = await grpc("Echo", grpcBody({ text: "hi" }));
        expect(response.trailers["grpc-status"]).toBe("0");
        expect(routed).toBe(streams || requests ? 0 : 1);
        const echoJson = (path: string) =>
          send(session, {
            method: "POST",
            path,
            headers: { "content-type": "application/json" },
            body: Buffer.from('{"text": "hi"}'),
          });
        const connect = await echoJson("/test.v1.TestService/Echo");
        expect(connect.status).toBe(200);
        expect(routed).toBe(streams || requests ? 0 : 2);
        // A path with a query string (a Connect GET's) takes the Fastify route.
        const query = await echoJson("/test.v1.TestService/Echo?x=1");
        expect(query.status).toBe(200);
        expect(routed).toBe(streams || requests ? 1 : 3);
      },
    );
  });
});

describe("the request path while Fastify closes", () => {
  it("leaves calls to Fastify, which answers 503, once close() has begun", async () => {
    const app = fastify() as unknown as FastifyInstance;
    let routed = 0;
    app.addHook("onRequest", (_request, _reply, done) => {
      routed++;
      done();
    });
    await app.register(fastifyEnginePlugin, {
      routes: testRoutes,
      requests: {
        install: (handler) => offerRequests(app.server, handler),
        context: () => ({ contextValues: createContextValues() }),
      },
    });
    // Holds close() between its start and the server's own close, as a slow preClose would;
    // in a plugin after the engine's, whose preClose runs first.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let closing = false;
    await app.register(async (plugin) => {
      plugin.addHook("preClose", () => {
        closing = true;
        return held;
      });
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const echo = () =>
      new Promise<number>((resolve, reject) => {
        const request = http.request(
          {
            agent,
            port,
            host: "127.0.0.1",
            method: "POST",
            path: "/test.v1.TestService/Echo",
            headers: { "content-type": "application/json" },
          },
          (response) => {
            response.resume();
            response.on("end", () => resolve(response.statusCode ?? 0));
          },
        );
        request.on("error", reject);
        request.end('{"text":"hi"}');
      });
    try {
      expect(await echo()).toBe(200);
      expect(routed).toBe(0);
      const closed = app.close();
      await vi.waitFor(() => expect(closing).toBe(true));
      // Fastify's answer (before its hooks run); the engine would have answered 200.
      expect(await echo()).toBe(503);
      release();
      await closed;
    } finally {
      release();
      agent.destroy();
      await app.close();
    }
  });
});
