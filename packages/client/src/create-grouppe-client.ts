import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { compressionGzip } from "@connectrpc/connect-node";
import { AuthService, EventService } from "@grouppe/api";
import { Health } from "@grouppe/api/health";
import { createBearerTokenInterceptor, type TokenSource } from "./bearer-token-interceptor.js";
import type { CircuitBreakerOptions } from "./circuit-breaker.js";
import { createDeadlineInterceptor } from "./deadline-interceptor.js";
import { createRetryInterceptor, type RetryOptions } from "./retry-interceptor.js";
import { type AddressStatus, createRoundRobinTransport } from "./round-robin-transport.js";

/** TLS material, PEM encoded. With `cert` and `key` the client proves who it is (mTLS). */
export interface TlsOptions {
  /** CA certificates that sign the servers' certificates; default Node's trusted roots. */
  ca?: string | Buffer;
  /** The client certificate (chain). */
  cert?: string | Buffer;
  /** The client certificate's private key. */
  key?: string | Buffer;
}

/**
 * HTTP/2 keepalive of each long-lived session. The defaults are the server's own keepalive
 * policy (GROUPPE_KEEPALIVE_INTERVAL_MS, GROUPPE_KEEPALIVE_TIMEOUT_MS): both sides find a dead
 * connection within the same 80 s, and the client never PINGs more often than the server does.
 */
export interface KeepaliveOptions {
  /** PING a session after this long without traffic. Default 60000. */
  pingIntervalMs?: number;
  /** A session whose PING goes unanswered this long is closed. Default 20000. */
  pingTimeoutMs?: number;
  /** Keep PINGing sessions that have no open call. Default false. */
  pingIdleConnection?: boolean;
  /** Close a session unused for this long. Default 900000 (15 minutes). */
  idleConnectionTimeoutMs?: number;
}

/** Options of {@link createGrouppeClient}. Only `addresses` is required. */
export interface GrouppeClientOptions {
  /** Base URLs of the grouppe instances, e.g. ["https://10.0.0.1:8443", "https://10.0.0.2:8443"]. */
  addresses: readonly string[];
  /** TLS for https addresses; give `cert` and `key` to authenticate with a client certificate. */
  tls?: TlsOptions;
  /** Deadline of unary and client-streaming calls that set none themselves. Default 5000. */
  timeoutMs?: number;
  /** Retry tuning, or false to never retry. */
  retry?: RetryOptions | false;
  /** When an address counts as down, and for how long it is skipped. */
  circuitBreaker?: CircuitBreakerOptions;
  /** HTTP/2 PINGs and idle timeout. */
  keepalive?: KeepaliveOptions;
  /**
   * HTTP/2 connections per address; calls take them in turn. Default 2. Measured (64 GetEvent
   * calls in flight against one server process, 1 to 4 connections): throughput did not grow
   * with more connections beyond run-to-run noise, since one HTTP/2 connection already
   * multiplexes every call. Two rather than one so that a connection being rotated (the
   * server's maximum connection age) or lost leaves another one warm, and an L4 balancer in
   * front spreads them over two instances. Raise it for more instances behind one address.
   */
  connectionsPerAddress?: number;
  /** A bearer token, or a function giving one per call, for calls made on behalf of a user. */
  token?: TokenSource;
  /** Extra interceptors, outermost first. They see each call once, before any retry. */
  interceptors?: Interceptor[];
  /** Request messages of at least this size are sent gzip-compressed. Default 1024. */
  compressMinBytes?: number;
  /** The largest response message accepted. Default 4 MiB. */
  readMaxBytes?: number;
  /** The largest request message sent. Default 4 MiB. */
  writeMaxBytes?: number;
}

/** Typed clients of every grouppe service, sharing one set of connections. */
export interface GrouppeClient {
  /** Events and RSVPs. */
  readonly events: Client<typeof EventService>;
  /** Accounts and sessions. */
  readonly auth: Client<typeof AuthService>;
  /** The standard gRPC health check. */
  readonly health: Client<typeof Health>;
  /** The circuit and connection state of every address, for health pages and metrics. */
  status(): AddressStatus[];
  /** Closes every connection. Calls made afterwards fail with CANCELED. */
  close(): void;
}

const fourMebibytes = 4 * 1024 * 1024;
const defaultConnectionsPerAddress = 2;

/**
 * Creates the client internal Node services use to call grouppe over native gRPC: a pool of
 * HTTP/2 sessions per address with keepalive PINGs, round-robin over the addresses with a
 * circuit breaker each, optional mTLS, a default deadline, retries with backoff and jitter for
 * calls that are safe to repeat, gzip for large messages and 4 MiB message limits.
 *
 * @example
 * import { readFileSync } from "node:fs";
 * import { createGrouppeClient } from "@grouppe/client";
 *
 * const grouppe = createGrouppeClient({
 *   addresses: ["https://10.0.0.1:8443", "https://10.0.0.2:8443"],
 *   tls: {
 *     ca: readFileSync("ca.pem"),
 *     cert: readFileSync("reminders.pem"),
 *     key: readFileSync("reminders-key.pem"),
 *   },
 * });
 * const { event } = await grouppe.events.getEvent({ id }, { timeoutMs: 2_000 });
 * grouppe.close();
 */
export function createGrouppeClient(options: GrouppeClientOptions): GrouppeClient {
  if (options.tls !== undefined) {
    const plain = options.addresses.filter((address) => URL.parse(address)?.protocol === "http:");
    if (plain.length > 0) {
      throw new TypeError(`tls is set but these addresses are not https: ${plain.join(", ")}`);
    }
  }
  const interceptors: Interceptor[] = [...(options.interceptors ?? [])];
  if (options.token !== undefined) interceptors.push(createBearerTokenInterceptor(options.token));
  interceptors.push(createDeadlineInterceptor(options.timeoutMs ?? 5_000));
  if (options.retry !== false) interceptors.push(createRetryInterceptor(options.retry));

  const keepalive = options.keepalive ?? {};
  const balancer = createRoundRobinTransport({
    addresses: options.addresses,
    nodeOptions: options.tls && {
      ca: options.tls.ca,
      cert: options.tls.cert,
      key: options.tls.key,
    },
    keepalive: {
      pingIntervalMs: keepalive.pingIntervalMs ?? 60_000,
      pingTimeoutMs: keepalive.pingTimeoutMs ?? 20_000,
      pingIdleConnection: keepalive.pingIdleConnection ?? false,
      idleConnectionTimeoutMs: keepalive.idleConnectionTimeoutMs ?? 15 * 60_000,
    },
    connectionsPerAddress: options.connectionsPerAddress ?? defaultConnectionsPerAddress,
    circuitBreaker: options.circuitBreaker,
    interceptors,
    sendCompression: compressionGzip,
    acceptCompression: [compressionGzip],
    compressMinBytes: options.compressMinBytes ?? 1024,
    readMaxBytes: options.readMaxBytes ?? fourMebibytes,
    writeMaxBytes: options.writeMaxBytes ?? fourMebibytes,
  });

  return {
    events: createClient(EventService, balancer.transport),
    auth: createClient(AuthService, balancer.transport),
    health: createClient(Health, balancer.transport),
    status: () => balancer.status(),
    close: () => balancer.close(),
  };
}
