import type { DescMethod } from "@bufbuild/protobuf";
import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { AuthService, CalendarService, EventService } from "@grouppe/api";
import { createAuthInterceptor } from "./auth-interceptor.js";
import type { SessionState } from "./session.svelte.js";
import { createSessionRefresher, type SessionRefresher } from "./session-refresher.js";
import type { TransportKind } from "./transport-kind.js";

/** The typed API clients the pages use, with the session they sign calls with. */
export interface ApiClients {
  events: Client<typeof EventService>;
  auth: Client<typeof AuthService>;
  calendar: Client<typeof CalendarService>;
  transportKind: TransportKind;
  refresher: SessionRefresher;
}

/** What {@link createApiClients} needs. */
export interface ApiClientOptions {
  /** The server's origin; the web app is served from the same origin as the API. */
  baseUrl: string;
  transportKind: TransportKind;
  session: SessionState;
  locks?: Pick<LockManager, "request">;
  fetch?: typeof globalThis.fetch;
}

/** A connect-web transport of the chosen kind: Connect with JSON, or gRPC-Web (binary). */
export function createTransport(
  kind: TransportKind,
  baseUrl: string,
  interceptors: Interceptor[] = [],
  fetch?: typeof globalThis.fetch,
): Transport {
  // Bind fetch to the window: browsers refuse a fetch called on another receiver.
  const boundFetch = fetch ?? ((input, init) => globalThis.fetch(input, init));
  return kind === "grpc-web"
    ? createGrpcWebTransport({ baseUrl, interceptors, fetch: boundFetch })
    : createConnectTransport({ baseUrl, interceptors, fetch: boundFetch });
}

/**
 * The methods that start, renew or end a session. They ask for the cookie session, so the
 * refresh token stays in an HttpOnly cookie that no script of the page can read.
 */
const sessionMethods: ReadonlySet<DescMethod> = new Set([
  AuthService.method.signUp,
  AuthService.method.logIn,
  AuthService.method.refreshToken,
  AuthService.method.logOut,
]);

const askForCookieSession: Interceptor = (next) => (req) => {
  if (sessionMethods.has(req.method)) req.header.set("x-grouppe-session", "cookie");
  return next(req);
};

/**
 * Builds the clients: every call carries the session's access token, and RefreshToken goes
 * out on a transport of its own so a refresh never waits on itself.
 */
export function createApiClients(options: ApiClientOptions): ApiClients {
  const { baseUrl, transportKind, session, locks, fetch } = options;
  const bareAuth = createClient(
    AuthService,
    createTransport(transportKind, baseUrl, [askForCookieSession], fetch),
  );
  const refresher = createSessionRefresher({
    session,
    locks,
    callRefreshToken: async () => (await bareAuth.refreshToken({})).session,
  });
  const transport = createTransport(
    transportKind,
    baseUrl,
    [askForCookieSession, createAuthInterceptor({ session, refresher, sessionMethods })],
    fetch,
  );
  return {
    events: createClient(EventService, transport),
    auth: createClient(AuthService, transport),
    calendar: createClient(CalendarService, transport),
    transportKind,
    refresher,
  };
}
