import * as http2 from "node:http2";
import { Code, ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
import {
  type Compression,
  createMethodUrl,
  validateReadWriteMaxBytes,
} from "@connectrpc/connect/protocol";
import { createTransport } from "@connectrpc/connect/protocol-grpc";
import {
  createNodeHttpClient,
  Http2SessionManager,
  type Http2SessionOptions,
  type NodeHttpClientOptions,
} from "@connectrpc/connect-node";
import {
  AddressCircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitStateName,
} from "./circuit-breaker.js";
import { finalError, unsentError } from "./client-errors.js";

// What the HTTP/2 client asks of a session manager; connect-node does not export the name.
type SessionProvider = NonNullable<
  Extract<NodeHttpClientOptions, { httpVersion: "2" }>["sessionProvider"]
>;
type NodeHttp2ClientSessionManager = ReturnType<SessionProvider>;

/** Options of {@link createRoundRobinTransport}. */
export interface RoundRobinTransportOptions {
  /** Base URLs of the server instances, e.g. ["https://10.0.0.1:8443", "https://10.0.0.2:8443"]. */
  addresses: readonly string[];
  /** Passed to `http2.connect()` for every address, e.g. TLS material for https addresses. */
  nodeOptions?: http2.ClientSessionOptions | http2.SecureClientSessionOptions;
  /** Keepalive PINGs and idle timeout of each HTTP/2 session. */
  keepalive?: Http2SessionOptions;
  /** HTTP/2 connections per address; calls take them in turn. Default 1. */
  connectionsPerAddress?: number;
  /** When an address counts as down, and for how long it is skipped. */
  circuitBreaker?: CircuitBreakerOptions;
  /** Interceptors around every call, outermost first; an address is picked after all of them. */
  interceptors?: Interceptor[];
  /** Compresses request messages of at least `compressMinBytes` with this algorithm. */
  sendCompression?: Compression;
  /** Response compressions offered to servers. Default none. */
  acceptCompression?: Compression[];
  /** The smallest message worth compressing. Default 1024. */
  compressMinBytes?: number;
  /** The largest response message accepted. Default ~4 GiB. */
  readMaxBytes?: number;
  /** The largest request message sent. Default ~4 GiB. */
  writeMaxBytes?: number;
}

/** The state of one server address, for health pages and metrics. */
export interface AddressStatus {
  /** The address as configured. */
  address: string;
  /** Whether calls go to it: "open" means it is being skipped. */
  circuit: CircuitStateName;
  /** The state of its first HTTP/2 session. */
  connection: SessionState;
  /** The state of each of its pooled HTTP/2 sessions. */
  connections: SessionState[];
}

type SessionState = ReturnType<Http2SessionManager["state"]>;

/** A gRPC transport that spreads calls over several server addresses. */
export interface RoundRobinTransport {
  /** Pass to `createClient()` of @connectrpc/connect. */
  readonly transport: Transport;
  /** The state of every address, in configured order. */
  status(): AddressStatus[];
  /** Closes every HTTP/2 session; calls made afterwards fail with CANCELED. */
  close(): void;
}

const noError = http2.constants.NGHTTP2_NO_ERROR;

interface Endpoint {
  address: string;
  pool: Http2SessionManager[];
  breaker: AddressCircuitBreaker;
}

/**
 * Creates a native gRPC transport (HTTP/2, binary protobuf) over several addresses. Each
 * origin gets a pool of long-lived HTTP/2 sessions that calls take in turn, kept alive by
 * PINGs. Calls
 * go to the addresses in turn, skipping any whose circuit breaker is open; when every circuit
 * is open the call fails at once with UNAVAILABLE. A call that could not be sent fails with an
 * UNAVAILABLE error marked as never sent, which the retry interceptor may resend elsewhere.
 */
export function createRoundRobinTransport(
  options: RoundRobinTransportOptions,
): RoundRobinTransport {
  if (options.addresses.length === 0) {
    throw new TypeError("a grouppe client needs at least one server address");
  }
  const poolSize = options.connectionsPerAddress ?? 1;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new RangeError(`connectionsPerAddress must be a positive integer, got ${poolSize}`);
  }
  const poolsByOrigin = new Map<string, Http2SessionManager[]>();
  const providersByOrigin = new Map<string, NodeHttp2ClientSessionManager>();
  const endpoints: Endpoint[] = options.addresses.map((address) => {
    const origin = originOf(address);
    let pool = poolsByOrigin.get(origin);
    if (pool === undefined) {
      pool = Array.from(
        { length: poolSize },
        () => new Http2SessionManager(origin, options.keepalive, options.nodeOptions),
      );
      poolsByOrigin.set(origin, pool);
      providersByOrigin.set(origin, pooledSessions(pool));
    }
    return {
      address,
      pool,
      breaker: new AddressCircuitBreaker(address, options.circuitBreaker),
    };
  });

  let closed = false;
  let cursor = 0;
  function pick(): Endpoint {
    for (let offset = 0; offset < endpoints.length; offset++) {
      const index = (cursor + offset) % endpoints.length;
      const endpoint = endpoints[index];
      if (endpoint?.breaker.isAvailable()) {
        cursor = (index + 1) % endpoints.length;
        return endpoint;
      }
    }
    throw finalError(
      `all ${endpoints.length} grouppe addresses are unavailable: their circuits are open`,
      Code.Unavailable,
      Math.min(...endpoints.map(({ breaker }) => breaker.msUntilAvailable())),
    );
  }

  const balance: Interceptor = (next) => async (req) => {
    if (closed) throw finalError("the grouppe client is closed", Code.Canceled);
    const endpoint = pick();
    const sent =
      req.stream && req.method.methodKind !== "server_streaming"
        ? { ...req, message: failOnAbort(req.message, req.signal) }
        : req;
    return endpoint.breaker.execute(async () => {
      try {
        return await next({ ...sent, url: createMethodUrl(endpoint.address, req.method) });
      } catch (error) {
        // REFUSED_STREAM: the server did not process the request at all (RFC 9113, 8.7), as
        // when it was shutting down; like a refused connection, any call may be resent.
        if (wasRefused(error)) throw unsentError(endpoint.address, error);
        throw error;
      }
    });
  };

  const transport = createTransport({
    httpClient: createNodeHttpClient({
      httpVersion: "2",
      sessionProvider: (url) => {
        const provider = providersByOrigin.get(new URL(url).origin);
        if (provider === undefined) throw new Error(`no HTTP/2 session for ${url}`);
        return provider;
      },
    }),
    // Only a placeholder: the balancer points every call at the address it picks.
    baseUrl: options.addresses[0] ?? "",
    useBinaryFormat: true,
    interceptors: [...(options.interceptors ?? []), balance],
    sendCompression: options.sendCompression ?? null,
    acceptCompression: options.acceptCompression ?? [],
    ...validateReadWriteMaxBytes(
      options.readMaxBytes,
      options.writeMaxBytes,
      options.compressMinBytes,
    ),
  });

  return {
    transport,
    status: () =>
      endpoints.map(({ address, breaker, pool }) => {
        const connections = pool.map((sessions) => sessions.state());
        return {
          address,
          circuit: breaker.state,
          connection: connections[0] ?? "closed",
          connections,
        };
      }),
    close() {
      closed = true;
      for (const pool of poolsByOrigin.values()) for (const sessions of pool) sessions.abort();
    },
  };
}

/**
 * A client stream's messages, failing instead of ending when the call is aborted (deadline,
 * cancel). An upload that merely ended would reach the server as complete (END_STREAM) and
 * be acted on; one that fails is reset (RST_STREAM), so the server drops what it received.
 */
async function* failOnAbort<T>(messages: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(ConnectError.from(signal.reason, Code.Canceled));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  const iterator = messages[Symbol.asyncIterator]();
  try {
    for (;;) {
      const item = await Promise.race([iterator.next(), aborted]);
      if (item.done) {
        // Ended by its producer, or cut short by an abort a moment ago: only the first is a
        // finished upload.
        if (signal.aborted) await aborted;
        return;
      }
      yield item.value;
    }
  } finally {
    void iterator.return?.();
  }
}

/**
 * Makes a call the client gives up on (deadline, cancel) reset its stream with CANCEL, as the
 * gRPC HTTP/2 protocol asks, and without ending it first. Node's `Http2Stream.close(code)`
 * ends the writable side before it sends RST_STREAM, so the server would see END_STREAM, a
 * complete upload, a moment before the reset, and could act on a client stream the client
 * abandoned. Marking the writable side as ending skips that END_STREAM.
 */
function resetWithoutEnding(stream: http2.ClientHttp2Stream): void {
  const close = stream.close.bind(stream);
  stream.close = (code?: number, callback?: () => void) => {
    if (code === undefined || code === noError) return close(code, callback);
    const writable = (stream as unknown as { _writableState?: { ending: boolean } })._writableState;
    if (writable !== undefined) writable.ending = true;
    close(http2.constants.NGHTTP2_CANCEL, callback);
  };
}

function wasRefused(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause.message.includes("NGHTTP2_REFUSED_STREAM")) return true;
  }
  return false;
}

function originOf(address: string): string {
  const url = URL.parse(address);
  if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new TypeError(
      `grouppe address "${address}" is not an http or https URL, e.g. "https://10.0.0.1:8443"`,
    );
  }
  return url.origin;
}

/**
 * One origin's pool of session managers behind the interface of one: each request takes the
 * next session in turn. A request a session cannot even start (no connection, TLS handshake
 * refused, session gone) fails with an error marked as never sent: no server saw the call.
 */
function pooledSessions(pool: Http2SessionManager[]): NodeHttp2ClientSessionManager {
  const first = pool[0];
  if (first === undefined) throw new RangeError("an empty HTTP/2 session pool");
  // Response bytes must be reported to the session that carries the stream.
  const owners = new WeakMap<http2.ClientHttp2Stream, Http2SessionManager>();
  let next = 0;
  return {
    authority: first.authority,
    async request(method, path, headers, options) {
      const sessions = pool[next] ?? first;
      next = (next + 1) % pool.length;
      try {
        const stream = await sessions.request(method, path, headers, options);
        owners.set(stream, sessions);
        resetWithoutEnding(stream);
        return stream;
      } catch (cause) {
        throw unsentError(sessions.authority, cause);
      }
    },
    notifyResponseByteRead: (stream) =>
      (owners.get(stream) ?? first).notifyResponseByteRead(stream),
  };
}
