import type { IncomingHttpHeaders } from "node:http";
import type net from "node:net";
import { type ContextValues, createContextValues } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { AuthService, CalendarService, EventService } from "@grouppe/api";
import { fastifyEnginePlugin } from "@grouppe/engine";
import { type FastifyBaseLogger, type FastifyInstance, fastify } from "fastify";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { type CalendarRoutesDeps, registerCalendarRoutes } from "./http/calendar-routes.js";
import { verifiedPrincipalOf } from "./http/certificate-principal.js";
import { registerCors } from "./http/cors.js";
import { registerProbes } from "./http/probes.js";
import { requestIdOf } from "./http/request-id.js";
import { RequestLogController } from "./http/request-log.js";
import { registerWebApp } from "./http/web-app.js";
import { Listener } from "./listen.js";
import { requestIdLogKey } from "./observability/logger.js";
import { RpcMetrics } from "./observability/metrics.js";
import { peerKey } from "./rpc/context.js";
import type { Rpc } from "./rpc/create-rpc.js";
import { HealthStatus, registerHealthService } from "./rpc/health-service.js";
import { createObserveInterceptor } from "./rpc/interceptors/observe.js";

/** What the app is built from. Only `rpc`, `logger` and `ready` are required; the rest default. */
export interface AppDeps {
  rpc: Rpc;
  logger: Logger;
  /**
   * Whether the server should get traffic: the database answered the latest check and no
   * shutdown began. Called per `/readyz` probe, so it must not query anything itself.
   */
  ready: () => boolean | Promise<boolean>;
  /** The socket server and its two parsers; created from the config when absent. */
  listener?: Listener;
  /** The grpc.health.v1 statuses; all grouppe services SERVING when absent. */
  health?: HealthStatus;
  metrics?: RpcMetrics;
  /** Aborted at shutdown; ends health Watch streams with UNAVAILABLE. */
  shutdown?: AbortSignal;
  /**
   * Aborted when the shutdown grace period is over: every call still running sees its signal
   * aborted with this signal's reason (a ConnectError reaches the client).
   */
  forceShutdown?: AbortSignal;
  /** What the iCalendar routes read; without it there are no `/calendar/` routes. */
  calendar?: CalendarRoutesDeps;
}

/** The service names grpc.health.v1 reports on, besides the server as a whole (""). */
export const healthServiceNames = [
  EventService.typeName,
  AuthService.typeName,
  CalendarService.typeName,
] as const;

/**
 * The Fastify app: every RPC (Connect, gRPC, gRPC-Web) through one route table, the
 * operational endpoints, CORS for configured origins and the web app. It is not listening
 * yet; `listen()` in listen.ts does that on the listener's socket server.
 */
export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const listener = deps.listener ?? new Listener(config, deps.logger);
  const health = deps.health ?? new HealthStatus(healthServiceNames);
  const metrics = deps.metrics ?? new RpcMetrics();
  const shutdown = deps.shutdown ?? new AbortController().signal;
  const rpcPrefixes = new Set<string>();
  const clientCertificates = config.tls?.clientCa !== undefined;
  /**
   * What the onRequest hooks and contextValues give a call on the Fastify route, for calls the
   * engine takes before Fastify (HTTP/2 streams, requests). Calls that CORS headers or a
   * trusted proxy's X-Forwarded-For would change stay on that route.
   */
  const directCallContext = (
    socket: net.Socket | undefined,
    headers: IncomingHttpHeaders,
  ): { contextValues: ContextValues; responseHeaders: Record<string, string> } | undefined => {
    if (config.corsOrigins.length > 0) return undefined;
    if (config.trustProxy !== false && headers["x-forwarded-for"] !== undefined) return undefined;
    const requestId = requestIdOf(headers["x-request-id"]);
    return {
      contextValues: createContextValues().set(peerKey, {
        ip: socket?.remoteAddress ?? "",
        requestId,
        certificate: clientCertificates ? principalOf(socket as never) : undefined,
      }),
      responseHeaders: { "x-request-id": requestId },
    };
  };

  const app = fastify({
    serverFactory: listener.serverFactory,
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new RequestLogController(requestIdLogKey, rpcPrefixes),
    genReqId: (request) => requestIdOf(request.headers["x-request-id"]),
    // Connect limits message sizes itself; this only bounds bodies of other routes.
    bodyLimit: 64 * 1024,
    // request.ip (rate limits, watcher caps, logs) names the client, not the proxy, only for
    // the proxies the operator listed.
    trustProxy:
      typeof config.trustProxy === "number" ? trustHops(config.trustProxy) : config.trustProxy,
    forceCloseConnections: "idle",
  });

  // Every response, including gRPC over HTTP/2, names its request id; the RPC plugin copies
  // the reply's headers onto the raw response.
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    done();
  });

  await registerCors(app, config.corsOrigins);
  // /metrics is not here: it is on the admin listener only (GROUPPE_ADMIN_PORT).
  registerProbes(app, { ready: deps.ready });

  // The engine serves all but bidi streams; connect-es serves those (reflection), and
  // everything with GROUPPE_ENGINE=connect. Both see the same routes, interceptors and limits.
  await app.register(fastifyEnginePlugin, {
    engine: config.rpcEngine === "engine",
    routes(router) {
      registerHealthService(router, health, shutdown);
      deps.rpc.routes(router);
      for (const handler of router.handlers) rpcPrefixes.add(`/${handler.service.typeName}/`);
    },
    interceptors: [
      createObserveInterceptor({ metrics, logger: deps.logger }),
      ...deps.rpc.interceptors,
    ],
    readMaxBytes: config.limits.readMaxBytes,
    writeMaxBytes: config.limits.writeMaxBytes,
    maxTimeoutMs: config.limits.maxTimeoutMs,
    compressMinBytes: config.limits.compressMinBytes,
    acceptCompression: [compressionGzip, compressionBrotli],
    shutdownSignal: deps.forceShutdown,
    contextValues: (request) =>
      createContextValues().set(peerKey, {
        ip: request.ip,
        requestId: request.id,
        certificate: clientCertificates ? principalOf(request.raw.socket) : undefined,
      }),
    http2Streams: {
      install: (handler) => listener.takeStreams(handler),
      context: (stream, headers) => directCallContext(stream.session?.socket, headers),
    },
    requests: {
      install: (handler) => listener.takeRequests(handler),
      context: (request) => directCallContext(request.socket, request.headers),
    },
  });

  if (deps.calendar) registerCalendarRoutes(app, deps.calendar);
  await registerWebApp(app, config.webDir);
  return app;
}

function principalOf(
  socket: Parameters<typeof verifiedPrincipalOf>[0],
): { principal: string } | undefined {
  const principal = verifiedPrincipalOf(socket);
  return principal === undefined ? undefined : { principal };
}

/** Trusts the nearest `hops` addresses of the forwarding chain (proxy-addr's hop count). */
function trustHops(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops;
}
