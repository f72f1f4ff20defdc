import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import net from "node:net";
import tls from "node:tls";
import { type Http2StreamHandler, offerHttp2Streams, type RequestHandler } from "@grouppe/engine";
import type { FastifyInstance, FastifyServerFactory } from "fastify";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { tagVerifiedPrincipal } from "./http/certificate-principal.js";

/** The first bytes of every HTTP/2 connection (RFC 9113 §3.4). */
const http2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
/** While draining, how often HTTP/1.1 connections that finished their last response are closed. */
const idleSweepMs = 50;
/**
 * How long HTTP/1.1 connections that are idle when draining begins stay open: a request the
 * client already sent on one may still be on the wire, and closing under it would lose it.
 * At most a quarter of the shutdown grace period.
 */
const idleDrainMaxMs = 1_000;
/** Maximum connection age is stretched by up to this fraction, so connections opened together do not all go at once. */
const ageJitter = 0.1;

type RequestListener = (
  request: http.IncomingMessage | http2.Http2ServerRequest,
  response: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/**
 * One port for every kind of caller. The socket server hands each connection to one of two
 * parsers that share Fastify's request handler: HTTP/2 (gRPC, and Connect or gRPC-Web from
 * HTTP/2 clients) or HTTP/1.1 (browsers, curl). On plaintext the first bytes decide: the
 * HTTP/2 preface means h2c with prior knowledge; with TLS, ALPN decides ("h2" or
 * "http/1.1"). It also runs HTTP/2 keepalive pings and maximum connection age, and drains
 * everything gracefully at shutdown.
 */
export class Listener {
  /** The socket server Fastify listens with (a net.Server, or a tls.Server with TLS). */
  readonly server: net.Server;
  private readonly http1: http.Server;
  private readonly http2: http2.Http2Server;
  private readonly sockets = new Set<net.Socket>();
  /** Every open HTTP/2 session, with its keepalive and age clock. */
  private readonly sessions = new Map<http2.ServerHttp2Session, SessionClock>();
  /** Runs keepalive and maximum age for every session; runs while there are sessions. */
  private sessionSweep?: NodeJS.Timeout;
  /** A session's "close" listener, shared by all sessions (`this` is the session). */
  private readonly forgetSession: (this: http2.ServerHttp2Session) => void;
  private readonly leaving = new WeakSet<http2.ServerHttp2Session>();
  /** Read by every HTTP/1.1 response as it writes its head; see {@link drainAwareResponse}. */
  private readonly state = { draining: false };
  private drained?: Promise<void>;
  /** Takes HTTP/2 streams before Node's compatibility layer and Fastify; see {@link takeStreams}. */
  private streamHandler:
    | ((stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => boolean)
    | undefined;
  /** Takes requests of both parsers before Fastify; see {@link takeRequests}. */
  private requestHandler: RequestHandler | undefined;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
  ) {
    const { limits } = config;
    this.http1 = http.createServer({
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      keepAliveTimeout: limits.http1KeepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
      noDelay: true,
      ServerResponse: drainAwareResponse(this.state),
    });
    // An idle socket is destroyed (no 'timeout' listener); a streaming response's heartbeats
    // count as traffic, so only dead connections go.
    this.http1.setTimeout(limits.connectionTimeoutMs);

    this.http2 = http2.createServer({
      settings: { maxConcurrentStreams: limits.maxConcurrentStreams },
    });
    this.http2.on("session", (session) => this.manageSession(session));
    offerHttp2Streams(this.http2, (stream, headers) => {
      if (!this.streamHandler?.(stream, headers)) return false;
      this.limitRequestBody(stream);
      return true;
    });
    this.http2.on("stream", (stream) => this.limitRequestBody(stream));
    this.http2.on("sessionError", (error) =>
      this.logger.debug({ err: error }, "http/2 session error"),
    );

    this.server = config.tls ? this.createTlsServer(config.tls) : this.createPlaintextServer();
    // One listener function for all sockets, not a closure each: an idle connection should
    // cost little more than Node's own socket and session.
    const sockets = this.sockets;
    const forgetSocket = function (this: net.Socket) {
      sockets.delete(this);
    };
    const listener = this;
    this.forgetSession = function (this: http2.ServerHttp2Session) {
      listener.sessions.delete(this);
      if (listener.sessions.size === 0) {
        clearInterval(listener.sessionSweep);
        listener.sessionSweep = undefined;
      }
    };
    this.server.on("connection", (socket: net.Socket) => {
      sockets.add(socket);
      socket.on("close", forgetSocket);
      // Resets and aborted handshakes are routine; without a listener they would crash the process.
      socket.on("error", destroySocket);
    });
    // The HTTP/1.1 server starts checking request and header timeouts when it "listens".
    this.server.on("listening", () => this.http1.emit("listening"));
    this.server.on("close", () => this.http1.close());
    this.http1.on("clientError", (error, socket) => {
      // Fastify answers malformed requests (400, 408, 431); it listens on the server it was given.
      if (!this.server.emit("clientError", error, socket)) socket.destroy();
    });
    // Fastify's close() closes idle HTTP/1.1 connections and HTTP/2 sessions when these exist.
    Object.assign(this.server, {
      closeIdleConnections: () => this.http1.closeIdleConnections(),
      closeHttp2Sessions: () => {
        for (const session of this.sessions.keys()) this.goAway(session);
      },
    });
  }

  /** For Fastify's `serverFactory`: both parsers call Fastify's handler; Fastify listens on the socket server. */
  readonly serverFactory: FastifyServerFactory = (handler) => {
    const offered: RequestListener = (request, response) => {
      if (this.requestHandler?.(request, response)) return;
      (handler as RequestListener)(request, response);
    };
    this.http1.on("request", offered);
    this.http2.on("request", offered);
    // Fastify drives listen/close/address and never reaches into HTTP internals of the server
    // it gets; the two parsers above do the HTTP.
    return this.server as unknown as http.Server;
  };

  /**
   * Offers every new HTTP/2 stream to `handler` first (the RPC engine's stream path); a stream
   * it takes never reaches Fastify. Streams it declines go on as usual. The request body
   * timeout, keepalive, connection age and draining apply to both.
   */
  takeStreams(handler: Http2StreamHandler): void {
    this.streamHandler = handler;
  }

  /**
   * Offers every request of either parser (HTTP/1.1, and HTTP/2 streams `takeStreams` declined)
   * to `handler` before Fastify (the RPC engine's path for HTTP/1.1 calls); a request it
   * takes never reaches Fastify. Request timeouts, body limits and draining are the parsers'
   * and apply to both.
   */
  takeRequests(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  /** Open TCP connections, of either protocol. */
  get connections(): number {
    return this.sockets.size;
  }

  /**
   * Begins a graceful stop and resolves once every connection has closed: stops accepting,
   * sends GOAWAY on every HTTP/2 connection (after a ping round trip, so calls the client sent
   * before hearing of the shutdown still run), ends HTTP/1.1 connections after their current
   * answer (`Connection: close`), and closes the ones that stay idle after a short window.
   */
  drain(): Promise<void> {
    if (this.drained) return this.drained;
    this.state.draining = true;
    this.drained = new Promise<void>((resolve) => {
      this.server.close(() => resolve());
    });
    for (const session of this.sessions.keys()) this.goAway(session);
    let sweep: NodeJS.Timeout | undefined;
    const start = setTimeout(
      () => {
        this.http1.closeIdleConnections();
        sweep = setInterval(() => this.http1.closeIdleConnections(), idleSweepMs);
        sweep.unref();
      },
      Math.min(idleDrainMaxMs, this.config.limits.shutdownGraceMs / 4),
    );
    start.unref();
    void this.drained.finally(() => {
      clearTimeout(start);
      clearInterval(sweep);
    });
    return this.drained;
  }

  /** Closes every connection at once; for what is left when the shutdown grace period ends. */
  destroy(): void {
    for (const session of this.sessions.keys()) session.destroy();
    for (const socket of this.sockets) socket.destroy();
  }

  private createPlaintextServer(): net.Server {
    // Half-open like Node's HTTP/1.1 server, so a request whose sender shut its side still
    // gets its response; HTTP/2 connections turn it off below.
    const server = net.createServer({ allowHalfOpen: true, noDelay: true });
    server.on("connection", (socket) => this.sniff(socket));
    return server;
  }

  private createTlsServer(options: NonNullable<Config["tls"]>): tls.Server {
    const server = tls.createServer({
      cert: options.cert,
      key: options.key,
      ALPNProtocols: ["h2", "http/1.1"],
      minVersion: "TLSv1.2",
      handshakeTimeout: this.config.limits.headersTimeoutMs,
      // Ask for a client certificate but let people without one in: a verified certificate
      // names an internal service, anyone else is an anonymous web user.
      ...(options.clientCa
        ? { ca: options.clientCa, requestCert: true, rejectUnauthorized: false }
        : {}),
    });
    server.on("secureConnection", (socket: tls.TLSSocket) => {
      if (options.clientCa) tagVerifiedPrincipal(socket);
      if (socket.alpnProtocol === "h2") this.http2.emit("connection", socket);
      else this.http1.emit("connection", socket);
    });
    server.on("tlsClientError", (error) =>
      this.logger.debug({ err: error }, "TLS handshake failed"),
    );
    return server;
  }

  /**
   * Reads until the first bytes tell the protocol (they may come in several packets), puts them
   * back and hands the socket to that parser. A client that says nothing is cut off after the
   * headers timeout.
   */
  private sniff(socket: net.Socket): void {
    let head: Buffer | undefined;
    const silence = setTimeout(() => socket.destroy(), this.config.limits.headersTimeoutMs);
    const giveUp = () => {
      clearTimeout(silence);
      socket.destroy();
    };
    const clearSilence = () => clearTimeout(silence);
    const onData = (chunk: Buffer) => {
      head = head === undefined ? chunk : Buffer.concat([head, chunk]);
      const compared = Math.min(head.length, http2Preface.length);
      const http2 = head.compare(http2Preface, 0, compared, 0, compared) === 0;
      if (http2 && head.length < http2Preface.length) return;
      clearTimeout(silence);
      // Nothing of the sniffing may stay referenced from the socket: these closures share one
      // scope with the first bytes and the timer, kept as long as the connection otherwise.
      socket.off("data", onData);
      socket.off("end", giveUp);
      socket.off("close", clearSilence);
      socket.pause();
      socket.unshift(head);
      head = undefined;
      if (http2) {
        socket.allowHalfOpen = false;
        // The HTTP/2 session reads what was put back from the socket's buffer itself.
        this.http2.emit("connection", socket);
      } else {
        this.http1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
    socket.once("end", giveUp);
    socket.once("close", clearSilence);
  }

  /**
   * The HTTP/2 twin of HTTP/1.1's request timeout: a request body not complete within
   * GROUPPE_REQUEST_TIMEOUT_MS is cut with RST_STREAM(CANCEL). Without it, a client could hold
   * up to max-concurrent-streams slots per connection open forever by trickling bytes, which
   * the session keepalive never notices because the connection is busy.
   */
  private limitRequestBody(stream: http2.ServerHttp2Stream): void {
    if (stream.endAfterHeaders) return;
    // Runs for every gRPC call: the timer's arguments and two shared listeners instead of closures.
    (stream as TimedStream)[bodyTimer] = setTimeout(
      cancelSlowBody,
      this.config.limits.requestTimeoutMs,
      stream,
      this.logger,
    );
    (stream as TimedStream)[bodyTimer]?.unref();
    stream.on("end", clearBodyTimer);
    stream.on("close", clearBodyTimer);
  }

  private manageSession(session: http2.ServerHttp2Session): void {
    const { limits } = this.config;
    const now = performance.now();
    this.sessions.set(session, {
      goAwayAt: now + limits.maxConnectionAgeMs * (1 + Math.random() * ageJitter),
      bytesRead: 0,
      quietSince: now,
      pingSentAt: undefined,
    });
    this.sessionSweep ??= this.startSessionSweep();
    // "close" comes once; `on` spares the wrapper `once` would keep per session.
    session.on("close", this.forgetSession);
    if (this.drained) this.goAway(session);
  }

  /**
   * One timer for every session's keepalive and maximum age instead of two each: an idle
   * connection should cost little more than Node's own socket and session.
   *
   * Keepalive: a session from which nothing arrived for an interval gets a ping; no answer
   * (nor anything else) within the keepalive timeout, it is dead. Age: past its age a session
   * gets GOAWAY, and is cut when the grace period is over. Each happens at most one sweep
   * period late.
   */
  private startSessionSweep(): NodeJS.Timeout {
    const { limits } = this.config;
    // A second at most, so a dead peer is found about when a timer per session would find it.
    const period = Math.max(
      50,
      Math.min(
        1_000,
        limits.keepaliveIntervalMs / 4,
        limits.keepaliveTimeoutMs / 4,
        (limits.maxConnectionAgeMs * ageJitter) / 2,
      ),
    );
    const sweep = setInterval(() => {
      const now = performance.now();
      for (const [session, clock] of this.sessions) {
        if (session.closed || session.destroyed) continue;
        const bytesRead = session.socket.bytesRead;
        if (bytesRead !== clock.bytesRead) {
          clock.bytesRead = bytesRead;
          clock.quietSince = now;
          clock.pingSentAt = undefined;
        } else if (clock.pingSentAt !== undefined) {
          if (now - clock.pingSentAt >= limits.keepaliveTimeoutMs) session.destroy();
        } else if (now - clock.quietSince >= limits.keepaliveIntervalMs) {
          clock.pingSentAt = now;
          // The answer is traffic: the next sweep sees it in bytesRead.
          session.ping(ignorePingResult);
        }
        if (clock.goAwayAt <= now && !this.leaving.has(session)) this.retire(session);
      }
    }, period);
    sweep.unref();
    return sweep;
  }

  /** GOAWAY for a session past its age; streams still open when the grace period ends are cut. */
  private retire(session: http2.ServerHttp2Session): void {
    this.goAway(session);
    const graceTimer = setTimeout(
      () => session.destroy(),
      this.config.limits.maxConnectionAgeGraceMs,
    );
    graceTimer.unref();
    session.once("close", () => clearTimeout(graceTimer));
  }

  /**
   * Graceful GOAWAY: a ping first, because its answer comes after every stream the client
   * opened before it saw the ping, so none of those is refused; then close(), which sends
   * GOAWAY naming the last stream taken and lets open streams finish.
   */
  private goAway(session: http2.ServerHttp2Session): void {
    if (session.closed || session.destroyed || this.leaving.has(session)) return;
    this.leaving.add(session);
    const close = () => {
      clearTimeout(fallback);
      if (!session.closed && !session.destroyed) session.close();
    };
    const fallback = setTimeout(close, this.config.limits.keepaliveTimeoutMs);
    fallback.unref();
    if (!session.ping(close)) close();
  }
}

/** A socket's "error" listener: resets and aborted handshakes just end the connection. */
function destroySocket(this: net.Socket): void {
  this.destroy();
}

/** What the session sweep keeps per HTTP/2 session (performance.now() times, ms). */
interface SessionClock {
  /** When the session reaches its maximum age. */
  goAwayAt: number;
  /** The socket's bytesRead at the last sweep. */
  bytesRead: number;
  /** Since when nothing arrived. */
  quietSince: number;
  /** When the unanswered keepalive ping went out. */
  pingSentAt: number | undefined;
}

/** A ping that fails does so because the session ended; the sweep forgets it then. */
function ignorePingResult(): void {}

const bodyTimer = Symbol("request body timer");
type TimedStream = http2.ServerHttp2Stream & { [bodyTimer]?: NodeJS.Timeout };

function cancelSlowBody(stream: http2.ServerHttp2Stream, logger: Logger): void {
  if (!stream.destroyed && !stream.readableEnded) {
    logger.debug("http/2 request body too slow; stream cancelled");
    stream.close(http2.constants.NGHTTP2_CANCEL);
  }
}

function clearBodyTimer(this: TimedStream): void {
  clearTimeout(this[bodyTimer]);
}

/**
 * The HTTP/1.1 response class: once draining has begun, every response whose head is not
 * written yet (new requests and those still in the handler) says `Connection: close`, so each
 * HTTP/1.1 connection ends after the answer it is waiting for.
 */
function drainAwareResponse(state: { readonly draining: boolean }): typeof http.ServerResponse {
  class DrainAwareResponse<
    Request extends http.IncomingMessage = http.IncomingMessage,
  > extends http.ServerResponse<Request> {}
  const writeHead = http.ServerResponse.prototype.writeHead;
  DrainAwareResponse.prototype.writeHead = function (
    this: http.ServerResponse,
    ...args: unknown[]
  ) {
    if (state.draining) this.shouldKeepAlive = false;
    return (writeHead as (...args: unknown[]) => http.ServerResponse).apply(this, args);
  } as typeof writeHead;
  return DrainAwareResponse;
}

/**
 * Listens on the configured host and port and returns the URL to reach the server: the
 * wildcard addresses become their loopback, so the URL works from the same machine.
 */
export async function listen(
  app: FastifyInstance,
  config: Config,
): Promise<{ url: string; port: number }> {
  const scheme = config.tls ? "https" : "http";
  await app.listen({
    host: config.host,
    port: config.port,
    listenTextResolver: (address) =>
      `grouppe listening at ${address.replace(/^https?:/, `${scheme}:`)}`,
  });
  const address = app.server.address() as AddressInfo;
  const host =
    address.address === "0.0.0.0"
      ? "127.0.0.1"
      : address.address === "::"
        ? "[::1]"
        : address.family === "IPv6"
          ? `[${address.address}]`
          : address.address;
  return { url: `${scheme}://${host}:${address.port}`, port: address.port };
}
