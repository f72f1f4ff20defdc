import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type Http2ServerRequest,
  type Http2ServerResponse,
  constants as http2Constants,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import type { DescMethod } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ConnectRouterOptions,
  type ContextValues,
  createConnectRouter,
  createContextValues,
  createMethodImplSpec,
  createServiceImplSpec,
  type MethodImplSpec,
} from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import * as protoConnect from "@connectrpc/connect/protocol-connect";
import * as protoGrpc from "@connectrpc/connect/protocol-grpc";
import * as protoGrpcWeb from "@connectrpc/connect/protocol-grpc-web";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from "fastify";
import { Engine, type EngineOptions, type EngineRoute } from "./engine.js";
import type { NodeHeaders } from "./header-map.js";
import { negotiateWire } from "./negotiate-wire.js";
import type { Http2StreamHandler } from "./offer-http2-streams.js";
import type { RequestHandler } from "./offer-requests.js";
import { recodeUnparsableBinary } from "./recode-unparsable-binary.js";

/**
 * Calls straight from HTTP/2 streams (gRPC, gRPC-Web and Connect POSTs). Fastify's hooks do
 * not run for these calls, so the application gives each call what its hooks would have:
 * context values and the response headers (a request id), or undefined to leave the call to
 * Fastify (a CORS request, a proxied one whose client address Fastify works out).
 */
export interface Http2StreamCalls {
  /**
   * Receives the handler once the routes are known; the HTTP/2 server calls it per stream
   * (see {@link offerHttp2Streams}).
   */
  install(handler: Http2StreamHandler): void;
  context(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
  ): { contextValues: ContextValues; responseHeaders?: NodeHeaders } | undefined;
}

/**
 * Calls straight from the server's 'request' event (HTTP/1.1, and HTTP/2 streams the stream
 * path declined, through Node's compatibility layer), before Fastify's routing, hooks and
 * reply. As for {@link Http2StreamCalls}, the application gives each call what its hooks would
 * have, or undefined to leave it to Fastify.
 */
export interface RequestCalls {
  /** Receives the handler once the routes are known (see {@link offerRequests}). */
  install(handler: RequestHandler): void;
  context(
    req: IncomingMessage | Http2ServerRequest,
  ): { contextValues: ContextValues; responseHeaders?: NodeHeaders } | undefined;
}

/** Options of {@link fastifyEnginePlugin}: the engine's, plus the routes and per-call context. */
export interface FastifyEngineOptions extends EngineOptions {
  /** Registers services and methods, as for connect-fastify. */
  routes: (router: ConnectRouter) => void;
  /** Context values for each call, made from the Fastify request. */
  contextValues?: (request: FastifyRequest) => ContextValues;
  /**
   * `false` sends every call to connect-es (the stock path, with the same limits, interceptors
   * and timeout capping); by default the engine serves unary, server- and client-streaming calls and
   * connect-es the rest.
   */
  engine?: boolean;
  /**
   * Serves calls on HTTP/2 from the stream itself, without Node's compatibility request and
   * response or Fastify's routing (about half the CPU of a small call). HTTP/1.1, Connect
   * GETs, and calls `context` declines take `requests` or the Fastify route.
   */
  http2Streams?: Http2StreamCalls;
  /**
   * Serves the engine's calls from the server's 'request' event, without Fastify's routing,
   * hooks and reply (a third of the CPU of a small HTTP/1.1 call). Calls `context` declines,
   * unusual ones (see {@link negotiateWire}) and paths with a query string take the Fastify
   * route.
   */
  requests?: RequestCalls;
}

/**
 * Serves Connect routes from Fastify, like connect-fastify's plugin: one route per method.
 * Unary, server- and client-streaming calls in the usual Content-Types go to the engine;
 * bidi streams and anything unusual (another HTTP method, a rare Content-Type spelling) go to
 * connect-es's own handler for the same method, on the same route.
 *
 * @example
 * await app.register(fastifyEnginePlugin, {
 *   routes: (router) => router.service(ElizaService, impl),
 *   interceptors: [logging],
 * });
 */
export const fastifyEnginePlugin: FastifyPluginCallback<FastifyEngineOptions> = (
  instance,
  options,
  done,
) => {
  try {
    register(instance, options);
    done();
  } catch (error) {
    done(error as Error);
  }
};

function register(instance: FastifyInstance, options: FastifyEngineOptions): void {
  const acceptCompression = options.acceptCompression ?? [compressionGzip, compressionBrotli];
  const engine = new Engine({ ...options, acceptCompression });
  const maxTimeoutMs = engine.options.maxTimeoutMs;
  const connectOptions: ConnectRouterOptions = {
    interceptors: options.interceptors,
    readMaxBytes: options.readMaxBytes,
    writeMaxBytes: options.writeMaxBytes,
    compressMinBytes: options.compressMinBytes,
    acceptCompression,
    shutdownSignal: options.shutdownSignal,
    jsonOptions: options.jsonOptions,
    binaryOptions: options.binaryOptions,
    // Deadlines above the maximum are capped before connect-es sees them (see capTimeout).
    requestGate: recodeUnparsableBinary,
  };
  const { router, specs } = recordingRouter(createConnectRouter(connectOptions));
  options.routes(router);
  if (router.handlers.length === 0) return;
  addNoopContentTypeParsers(instance);
  const contextValues = options.contextValues ?? (() => createContextValues());

  const streamRoutes = new Map<string, { route: EngineRoute; method: DescMethod }>();
  // Fastify answers 503 from the moment close() begins; the direct paths leave calls to it from
  // this plugin's preClose on (after the root instance's preClose hooks, if any).
  let closing = false;
  instance.addHook("preClose", (hookDone) => {
    closing = true;
    hookDone();
  });
  for (const handler of router.handlers) {
    const fallback = connectRoute(handler, contextValues, maxTimeoutMs);
    const spec = specs.get(handler.method);
    const served = options.engine !== false && spec !== undefined && spec.kind !== "bidi_streaming";
    if (!served) {
      instance.all(handler.requestPath, fallback);
      continue;
    }
    const route: EngineRoute = engine.route(spec);
    const method = handler.method;
    streamRoutes.set(handler.requestPath, { route, method });
    instance.all(handler.requestPath, (request: FastifyRequest, reply: FastifyReply) => {
      const raw = request.raw;
      const wire = negotiateWire(method, raw.method, raw.headers["content-type"], raw.url);
      if (wire === undefined) return fallback(request, reply);
      reply.hijack();
      engine.serve(
        route,
        wire,
        raw,
        reply.raw,
        urlOf(raw),
        contextValues(request),
        reply.getHeaders() as NodeHeaders,
      );
      return undefined;
    });
  }
  const calls = options.http2Streams;
  if (calls !== undefined && streamRoutes.size > 0) {
    calls.install((stream, headers) => {
      const path = headers[":path"];
      const target = path === undefined ? undefined : streamRoutes.get(path);
      if (target === undefined || headers.expect !== undefined || closing) return false;
      const wire = negotiateWire(target.method, headers[":method"], headers["content-type"], path);
      if (wire === undefined || wire.get) return false;
      try {
        const context = calls.context(stream, headers);
        if (context === undefined) return false;
        const authority = headers[":authority"] ?? headers.host ?? "localhost";
        const scheme = stream.session?.encrypted === true ? "https" : "http";
        engine.serveHttp2Stream(
          target.route,
          wire,
          stream,
          headers,
          `${scheme}://${authority}${path}`,
          context.contextValues,
          context.responseHeaders,
        );
      } catch (error) {
        // Thrown from a session's 'stream' event it would end the process; Fastify's route
        // would have caught it, so the call ends here instead.
        instance.log.error({ err: error }, `serving ${path} from an HTTP/2 stream failed`);
        if (!stream.destroyed) {
          // Closing with an error code makes the stream emit 'error'; nobody else listens.
          stream.on("error", () => {});
          stream.close(http2Constants.NGHTTP2_INTERNAL_ERROR);
        }
      }
      return true;
    });
  }
  const requests = options.requests;
  if (requests !== undefined && streamRoutes.size > 0) {
    requests.install((req, res) => {
      // An exact path: one with a query string (a Connect GET) or another spelling takes the
      // Fastify route, which knows how to normalize it.
      const path = req.url;
      const target = path === undefined ? undefined : streamRoutes.get(path);
      if (target === undefined || req.headers.expect !== undefined || closing) return false;
      const wire = negotiateWire(target.method, req.method, req.headers["content-type"], path);
      if (wire === undefined) return false;
      try {
        const context = requests.context(req);
        if (context === undefined) return false;
        engine.serve(
          target.route,
          wire,
          req,
          res,
          urlOf(req),
          context.contextValues,
          context.responseHeaders,
        );
      } catch (error) {
        // Thrown from the server's 'request' event it would end the process; Fastify's route
        // would have caught it, so the call ends here instead.
        instance.log.error({ err: error }, `serving ${path} from a request failed`);
        // As on the stream path: an HTTP/2 stream is reset, an HTTP/1.1 connection cut.
        const stream = (res as Http2ServerResponse).stream as ServerHttp2Stream | undefined;
        if (stream === undefined) res.destroy();
        else if (!stream.destroyed) {
          stream.on("error", () => {});
          stream.close(http2Constants.NGHTTP2_INTERNAL_ERROR);
        }
      }
      return true;
    });
  }
}

/**
 * A ConnectRouter that builds connect-es's handlers as usual and also keeps each method's
 * implementation for the engine. Methods registered with their own router options stay with
 * connect-es, which knows what those options mean.
 */
function recordingRouter(inner: ConnectRouter): {
  router: ConnectRouter;
  specs: Map<DescMethod, MethodImplSpec>;
} {
  const specs = new Map<DescMethod, MethodImplSpec>();
  const router: ConnectRouter = {
    get handlers() {
      return inner.handlers;
    },
    service(service, implementation, options) {
      inner.service(service, implementation, options);
      if (options === undefined) {
        const spec = createServiceImplSpec(service, implementation);
        for (const method of Object.values(spec.methods)) specs.set(method.method, method);
      }
      return router;
    },
    rpc(method, implementation, options) {
      inner.rpc(method, implementation, options);
      if (options === undefined) specs.set(method, createMethodImplSpec(method, implementation));
      return router;
    },
  };
  return { router, specs };
}

/** connect-fastify's route handler for one method, with deadlines capped instead of refused. */
function connectRoute(
  handler: UniversalHandler,
  contextValues: (request: FastifyRequest) => ContextValues,
  maxTimeoutMs: number,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    capTimeout(request.raw.headers as NodeHeaders, maxTimeoutMs);
    try {
      const response = await handler(
        universalRequestFromNodeRequest(
          request.raw,
          reply.raw as ServerResponse,
          request.body as undefined,
          contextValues(request),
        ),
      );
      // Fastify keeps reply headers (request id, CORS) until reply.send, which is not used here.
      for (const [key, value] of Object.entries(reply.getHeaders())) {
        if (value !== undefined) reply.raw.setHeader(key, value);
      }
      await universalResponseToNodeResponse(response, reply.raw);
    } catch (error) {
      if (ConnectError.from(error).code === Code.Aborted) return;
      request.log.error(
        { err: error },
        `handler for rpc ${handler.method.name} of ${handler.service.typeName} failed`,
      );
    }
  };
}

/** Rewrites a timeout header above the maximum to the maximum. */
function capTimeout(headers: NodeHeaders, maxTimeoutMs: number): void {
  const grpc = headers["grpc-timeout"];
  if (typeof grpc === "string") {
    const { timeoutMs } = protoGrpc.parseTimeout(grpc, maxTimeoutMs);
    if (timeoutMs !== undefined && timeoutMs > maxTimeoutMs)
      headers["grpc-timeout"] = `${maxTimeoutMs}m`;
  }
  const connect = headers["connect-timeout-ms"];
  if (typeof connect === "string") {
    const { timeoutMs } = protoConnect.parseTimeout(connect, maxTimeoutMs);
    if (timeoutMs !== undefined && timeoutMs > maxTimeoutMs) {
      headers["connect-timeout-ms"] = String(maxTimeoutMs);
    }
  }
}

/** The call's URL as connect-es gives it to interceptors. */
function urlOf(raw: IncomingMessage | Http2ServerRequest): string {
  const encrypted = (raw.socket as { encrypted?: boolean } | null)?.encrypted === true;
  const authority =
    (raw as Http2ServerRequest).authority ??
    (raw.headers.host as string | undefined) ??
    "localhost";
  return `${encrypted ? "https" : "http"}://${authority}${raw.url ?? "/"}`;
}

/** Connect reads request bodies itself; Fastify must leave them alone on these routes. */
function addNoopContentTypeParsers(instance: FastifyInstance): void {
  const noop = (_request: unknown, _payload: unknown, done: (e: null, body: undefined) => void) =>
    done(null, undefined);
  instance.addContentTypeParser(
    [
      protoConnect.contentTypeUnaryJson,
      protoConnect.contentTypeStreamJson,
      protoGrpcWeb.contentTypeProto,
      protoGrpcWeb.contentTypeJson,
      protoGrpc.contentTypeProto,
      protoGrpc.contentTypeJson,
    ],
    noop,
  );
  instance.addContentTypeParser(protoGrpc.contentTypeRegExp, noop);
  instance.addContentTypeParser(protoGrpcWeb.contentTypeRegExp, noop);
  instance.addContentTypeParser(protoConnect.contentTypeRegExp, noop);
}
