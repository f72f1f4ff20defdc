import type * as http2 from "node:http2";
import { Code, type Interceptor, type Transport } from "@connectrpc/connect";
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
  /** Keepalive PINGs and idle timeout of each address's HTTP/2 session. */
  keepalive?: Http2SessionOptions;
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
  /** The state of its HTTP/2 session. */
  connection: ReturnType<Http2SessionManager["state"]>;
}

/** A gRPC transport that spreads calls over several server addresses. */
export interface RoundRobinTransport {
  /** Pass to `createClient()` of @connectrpc/connect. */
  readonly transport: Transport;
  /** The state of every address, in configured order. */
  status(): AddressStatus[];
  /** Closes every HTTP/2 session; calls made afterwards fail with CANCELED. */
  close(): void;
}

interface Endpoint {
  address: string;
  sessions: Http2SessionManager;
  breaker: AddressCircuitBreaker;
}

/**
 * Creates a native gRPC transport (HTTP/2, binary protobuf) over several addresses. Each
 * origin gets one long-lived HTTP/2 session that every call shares, kept alive by PINGs. Calls
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
  const sessionsByOrigin = new Map<string, Http2SessionManager>();
  const providersByOrigin = new Map<string, NodeHttp2ClientSessionManager>();
  const endpoints: Endpoint[] = options.addresses.map((address) => {
    const origin = originOf(address);
    let sessions = sessionsByOrigin.get(origin);
    if (sessions === undefined) {
      sessions = new Http2SessionManager(origin, options.keepalive, options.nodeOptions);
      sessionsByOrigin.set(origin, sessions);
      providersByOrigin.set(origin, markUnsentFailures(sessions));
    }
    return {
      address,
      sessions,
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
    );
  }

  const balance: Interceptor = (next) => async (req) => {
    if (closed) throw finalError("the grouppe client is closed", Code.Canceled);
    const endpoint = pick();
    return endpoint.breaker.execute(() =>
      next({ ...req, url: createMethodUrl(endpoint.address, req.method) }),
    );
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
      endpoints.map(({ address, breaker, sessions }) => ({
        address,
        circuit: breaker.state,
        connection: sessions.state(),
      })),
    close() {
      closed = true;
      for (const sessions of sessionsByOrigin.values()) sessions.abort();
    },
  };
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
 * Wraps a session manager so that a request it cannot even start (no connection, TLS handshake
 * refused, session gone) fails with an error marked as never sent: no server saw the call.
 */
function markUnsentFailures(sessions: Http2SessionManager): NodeHttp2ClientSessionManager {
  return {
    authority: sessions.authority,
    async request(method, path, headers, options) {
      try {
        return await sessions.request(method, path, headers, options);
      } catch (cause) {
        throw unsentError(sessions.authority, cause);
      }
    },
    notifyResponseByteRead: (stream) => sessions.notifyResponseByteRead(stream),
  };
}
