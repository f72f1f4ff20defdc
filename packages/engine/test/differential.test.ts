import http2 from "node:http2";
import https from "node:https";
import type { AddressInfo } from "node:net";
import zlib from "node:zlib";
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { createContextValues } from "@connectrpc/connect";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import { createTestPki } from "@grouppe/testkit";
import fc from "fast-check";
import { type FastifyInstance, fastify } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type FastifyEngineOptions,
  fastifyEnginePlugin,
  offerHttp2Streams,
  offerRequests,
} from "../src/index.js";
import { ProbeSchema, testInterceptor, testRoutes } from "./support/test-service.js";
import { send, sendHttp1, type WireRequest, type WireResponse } from "./support/wire-client.js";

/**
 * The engine and stock connect-es (connect-fastify) get the same random requests, valid and
 * not, over HTTP/2 or HTTP/1.1 (one TLS server each, ALPN picks); status, headers, trailers and
 * decoded bodies must agree, except for the differences the README lists, which are mapped
 * here before comparing. A third server has the engine take calls on HTTP/2 straight from the
 * stream (`http2Streams`) and HTTP/1.1 calls straight from the server's 'request' event
 * (`requests`); a fourth takes calls of either HTTP version from the 'request' event only (on
 * HTTP/2 through Node's compatibility layer). Both are ahead of Fastify, and both must answer
 * like the first two.
 */

const limits = { readMaxBytes: 300, writeMaxBytes: 1_500, compressMinBytes: 32 };
const maxTimeoutMs = 60_000;

let engineApp: FastifyInstance;
let streamApp: FastifyInstance;
let requestApp: FastifyInstance;
let stockApp: FastifyInstance;
interface Client {
  h2: http2.ClientHttp2Session;
  h1: https.Agent;
  port: number;
}
let engine: Client;
let streams: Client;
let requests: Client;
let stock: Client;
/** Calls the stream path took; the property checks it took some. */
let streamCalls = 0;
/** Calls the request path took, by HTTP version; the property checks it took both. */
const requestCalls = { http1: 0, http2: 0 };
let ca: string;

async function start(app: FastifyInstance): Promise<Client> {
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    h2: http2.connect(`https://localhost:${port}`, { ca }),
    h1: new https.Agent({ keepAlive: true, maxSockets: 1, ca }),
    port,
  };
}

function sendTo(client: Client, request: WireRequest, http1: boolean): Promise<WireResponse> {
  return http1 ? sendHttp1(client.h1, client.port, request) : send(client.h2, request);
}

beforeAll(async () => {
  const pki = await createTestPki();
  ca = pki.ca;
  const tls = { http2: true, https: { allowHTTP1: true, ...pki.server } } as const;
  /** An engine server; `paths` adds the direct paths, given the app whose server they hook. */
  const engineServer = async (
    paths: (app: FastifyInstance) => Partial<FastifyEngineOptions> = () => ({}),
  ) => {
    const app = fastify(tls) as unknown as FastifyInstance;
    await app.register(fastifyEnginePlugin, {
      routes: testRoutes,
      interceptors: [testInterceptor],
      maxTimeoutMs,
      ...limits,
      ...paths(app),
    });
    return app;
  };
  engineApp = await engineServer();
  streamApp = await engineServer((app) => ({
    http2Streams: {
      install: (handler) =>
        offerHttp2Streams(app.server as unknown as http2.Http2SecureServer, handler),
      context: () => {
        streamCalls++;
        return { contextValues: createContextValues() };
      },
    },
    requests: {
      install: (handler) => offerRequests(app.server, handler),
      context: () => ({ contextValues: createContextValues() }),
    },
  }));
  requestApp = await engineServer((app) => ({
    requests: {
      install: (handler) => offerRequests(app.server, handler),
      context: (request) => {
        requestCalls[request.httpVersionMajor === 2 ? "http2" : "http1"]++;
        return { contextValues: createContextValues() };
      },
    },
  }));
  stockApp = fastify(tls) as unknown as FastifyInstance;
  // Stock connect-es refuses deadlines above its maximum; the engine caps them. Without a
  // maximum here both accept every deadline the generator makes.
  await stockApp.register(fastifyConnectPlugin, {
    routes: testRoutes,
    interceptors: [testInterceptor],
    ...limits,
  });
  [engine, streams, requests, stock] = await Promise.all([
    start(engineApp),
    start(streamApp),
    start(requestApp),
    start(stockApp),
  ]);
});

afterAll(async () => {
  for (const client of [engine, streams, requests, stock]) {
    client?.h2.close();
    client?.h1.destroy();
  }
  await Promise.all([
    engineApp?.close(),
    streamApp?.close(),
    requestApp?.close(),
    stockApp?.close(),
  ]);
});

const contentTypes = [
  "application/grpc",
  "application/grpc+proto",
  "application/grpc+json",
  "application/grpc-web",
  "application/grpc-web+proto",
  "application/grpc-web+json",
  "application/proto",
  "application/json",
  "application/json; charset=utf-8",
  "application/connect+proto",
  "application/connect+json",
  "Application/GRPC",
  "application/grpc+xml",
  "text/plain",
  undefined,
] as const;

const bodyModes = [
  "valid",
  "valid",
  "valid",
  "valid",
  "valid",
  "valid",
  "valid",
  "truncated",
  "extra",
  "empty",
  "garbage",
  "compressed",
  "flag-without-encoding",
  "unknown-encoding",
  "oversized",
] as const;

const probe = fc.record({
  text: fc.string({ maxLength: 24 }),
  count: fc.integer({ min: 0, max: 4 }),
  data: fc.uint8Array({ maxLength: 12 }),
  tags: fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
  fail: fc.constantFrom(0, 0, 0, 0, 3, 5, 7, 9, 13, 16, 17),
  repeat: fc.constantFrom(0, 1, 4, 100),
  meta: fc.boolean(),
});

const requestArb = fc.record({
  probe,
  method: fc.constantFrom("Echo", "Echo", "Count", "Count", "Collect", "Chat", "Missing"),
  httpMethod: fc.constantFrom("POST", "POST", "POST", "POST", "POST", "GET", "PUT"),
  contentType: fc.constantFrom(...contentTypes),
  body: fc.constantFrom(...bodyModes),
  timeout: fc.constantFrom("none", "none", "valid", "invalid", "above-max"),
  acceptEncoding: fc.constantFrom(undefined, undefined, "gzip", "br", "identity", "gzip, br"),
  deny: fc.constantFrom(false, false, false, false, false, true),
  getEncoding: fc.constantFrom("proto", "json", "xml"),
  base64: fc.boolean(),
  cut: fc.integer({ min: 1, max: 8 }),
  http1: fc.boolean(),
});

type Generated = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

function envelope(flags: number, data: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + data.byteLength);
  frame[0] = flags;
  frame.writeUInt32BE(data.byteLength, 1);
  frame.set(data, 5);
  return frame;
}

/** Builds the wire request a client (or a broken client) would send. */
function build(g: Generated): WireRequest {
  const type = g.contentType?.toLowerCase() ?? "";
  const json = type.includes("json") || type === "text/plain";
  const enveloped = /^application\/(grpc|connect\+)/.test(type);
  const connect = !/^application\/grpc/.test(type);
  const streamConnect = type.startsWith("application/connect+");
  const message = create(ProbeSchema, g.probe);
  let payload: Uint8Array = json
    ? Buffer.from(toJsonString(ProbeSchema, message))
    : toBinary(ProbeSchema, message);
  const headers: Record<string, string> = {};
  if (g.contentType !== undefined) headers["content-type"] = g.contentType;
  const encodingHeader = !connect
    ? "grpc-encoding"
    : streamConnect
      ? "connect-content-encoding"
      : "content-encoding";
  const acceptHeader = !connect
    ? "grpc-accept-encoding"
    : streamConnect
      ? "connect-accept-encoding"
      : "accept-encoding";
  if (g.acceptEncoding !== undefined) headers[acceptHeader] = g.acceptEncoding;
  if (g.deny) headers["x-deny"] = "1";
  if (g.timeout !== "none") {
    const name = connect ? "connect-timeout-ms" : "grpc-timeout";
    const value =
      g.timeout === "valid"
        ? connect
          ? "20000"
          : "20S"
        : g.timeout === "above-max"
          ? connect
            ? "90000"
            : "2M"
          : "soon";
    headers[name] = value;
  }
  let flags = 0;
  switch (g.body) {
    case "garbage":
      payload = json ? Buffer.from("{not json") : Uint8Array.from([0x0a, 0xff, 0xff, 0xff]);
      break;
    case "compressed":
      payload = zlib.gzipSync(payload);
      flags = 1;
      headers[encodingHeader] = "gzip";
      break;
    case "flag-without-encoding":
      flags = 1;
      break;
    case "unknown-encoding":
      headers[encodingHeader] = "snappy";
      break;
    case "oversized":
      payload = Buffer.alloc(400, json ? 0x20 : 0);
      break;
  }
  let body: Uint8Array = enveloped ? envelope(flags, payload) : payload;
  if (g.body === "truncated") body = body.subarray(0, Math.max(0, body.byteLength - g.cut));
  if (g.body === "extra") body = Buffer.concat([body, body]);
  if (g.body === "empty") body = new Uint8Array(0);
  let path = `/test.v1.TestService/${g.method}`;
  if (g.httpMethod === "GET") {
    delete headers["content-type"];
    const binary = g.getEncoding === "proto";
    const raw = binary
      ? toBinary(ProbeSchema, message)
      : Buffer.from(toJsonString(ProbeSchema, message));
    const encoded = g.base64
      ? Buffer.from(raw).toString("base64url")
      : Buffer.from(raw).toString("utf8");
    const query = new URLSearchParams({ encoding: g.getEncoding, message: encoded });
    if (g.base64) query.set("base64", "1");
    if (g.body === "compressed") query.set("compression", "gzip");
    path += `?${query}`;
  }
  return { method: g.httpMethod, path, headers, body };
}

/**
 * Maps stock connect-es's answer to what the engine deliberately answers instead: malformed
 * binary protobuf is INVALID_ARGUMENT (connect-es: INTERNAL), also for the bidi streams the
 * engine leaves to connect-es, whose parse errors its fallback route recodes.
 */
function expected(stock: WireResponse): WireResponse {
  const text = JSON.stringify(stock);
  if (!text.includes("parse binary") && !text.includes("parse%20binary")) return stock;
  const mapped = structuredClone(stock);
  if (mapped.trailers["grpc-status"] === "13") mapped.trailers["grpc-status"] = "3";
  if (mapped.headers["grpc-status"] === "13") mapped.headers["grpc-status"] = "3";
  if (mapped.status === 500) {
    mapped.status = 400;
    // "invalid_argument" is 8 bytes longer than "internal"; compressed, who knows.
    const length = mapped.headers["content-length"];
    if (length !== undefined) {
      mapped.headers["content-length"] =
        mapped.headers["content-encoding"] === undefined
          ? String(Number(length) + 8)
          : lengthNotCompared;
    }
  }
  mapped.body = JSON.parse(
    JSON.stringify(mapped.body)
      .replaceAll('"code":"internal"', '"code":"invalid_argument"')
      .replaceAll("grpc-status: 13", "grpc-status: 3"),
  );
  return mapped;
}

/**
 * Whether `body` ends right after an envelope's header, its promised bytes missing entirely.
 * connect-es's envelope decoder has consumed the header by then and sees nothing left over;
 * the engine calls it what it is, as for a body cut anywhere else in an envelope.
 */
function endsAfterEnvelopeHeader(body: Uint8Array): boolean {
  let offset = 0;
  while (body.byteLength - offset >= 5) {
    const size = Buffer.from(body.buffer, body.byteOffset, body.byteLength).readUInt32BE(
      offset + 1,
    );
    if (body.byteLength - offset === 5) return size > 0;
    offset += 5 + size;
  }
  return false;
}

/**
 * The engine's answer to a body that ends after an envelope header, on every path alike:
 * INVALID_ARGUMENT, "incomplete envelope". (connect-es answers unary and server-streaming calls
 * UNIMPLEMENTED, "missing input message", and a client stream OK, as if nothing had been sent.)
 */
function expectIncompleteEnvelope(answers: WireResponse[], label: string): void {
  const [first, ...rest] = answers;
  for (const answer of rest) expect(answer, label).toEqual(first);
  const text = JSON.stringify(first);
  expect(text, label).toMatch(/incomplete( |%20)envelope/);
  expect(text, label).toMatch(/"grpc-status":"3"|grpc-status: 3|"code":"invalid_argument"/);
}

/** Stands in for a content length that cannot be compared (compressed, or a mapped error). */
const lengthNotCompared = "not compared";

describe("engine vs stock connect-es", () => {
  // Cases random probes rarely hit. The engine makes the message of a `{}` JSON body without
  // parsing it; a body that ends right after an envelope header is a listed difference.
  const empty = Buffer.from("{}");
  const headerOnly = envelope(0, Buffer.alloc(6)).subarray(0, 5);
  it.each([
    ["an empty JSON object", "application/json", empty],
    ["an empty JSON object", "application/json; charset=utf-8", empty],
    ["an empty JSON object", "application/grpc+json", envelope(0, empty)],
    ["an empty JSON object", "application/grpc-web+json", envelope(0, empty)],
    ["an envelope header alone", "application/grpc", headerOnly],
    ["an envelope header alone", "application/grpc-web+proto", headerOnly],
    ["an envelope header alone", "application/connect+proto", headerOnly],
  ] as const)("answers %s as %s like stock", async (_, contentType, body) => {
    const streaming = contentType.startsWith("application/connect+");
    for (const http1 of [false, true]) {
      for (const method of streaming ? ["Collect"] : ["Echo", "Count", "Collect"]) {
        const request: WireRequest = {
          method: "POST",
          path: `/test.v1.TestService/${method}`,
          headers: { "content-type": contentType },
          body,
        };
        const [fromEngine, fromStreams, fromRequests, fromStock] = await Promise.all([
          sendTo(engine, request, http1),
          sendTo(streams, request, http1),
          sendTo(requests, request, http1),
          sendTo(stock, request, http1),
        ]);
        const label = `${method} ${contentType} ${http1 ? "HTTP/1.1" : "HTTP/2"}`;
        if (body === headerOnly) {
          expectIncompleteEnvelope([fromEngine, fromStreams, fromRequests], label);
          continue;
        }
        expect(fromEngine, label).toEqual(fromStock);
        expect(fromStreams, label).toEqual(fromStock);
        expect(fromRequests, label).toEqual(fromStock);
      }
    }
  });

  it("answers random valid and invalid requests the same way", async () => {
    await fc.assert(
      fc.asyncProperty(requestArb, async (generated) => {
        const request = build(generated);
        const [fromEngine, fromStreams, fromRequests, fromStock] = await Promise.all([
          sendTo(engine, request, generated.http1),
          sendTo(streams, request, generated.http1),
          sendTo(requests, request, generated.http1),
          sendTo(stock, request, generated.http1),
        ]);
        if (generated.body === "truncated" && endsAfterEnvelopeHeader(request.body)) {
          expectIncompleteEnvelope(
            [fromEngine, fromStreams, fromRequests],
            JSON.stringify(generated),
          );
          return;
        }
        const want = expected(fromStock);
        if (want.headers["content-length"] === lengthNotCompared) {
          fromEngine.headers["content-length"] = lengthNotCompared;
          fromStreams.headers["content-length"] = lengthNotCompared;
          fromRequests.headers["content-length"] = lengthNotCompared;
        }
        expect(fromEngine).toEqual(want);
        expect(fromStreams).toEqual(want);
        expect(fromRequests).toEqual(want);
      }),
      { numRuns: 200 },
    );
    expect(streamCalls).toBeGreaterThan(0);
    expect(requestCalls.http1).toBeGreaterThan(0);
    expect(requestCalls.http2).toBeGreaterThan(0);
  });
});
