import { createValidator } from "@bufbuild/protovalidate";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { AuthService, apiFiles, CalendarService, EventService } from "@grouppe/api";
import { file_grpc_health_v1_health } from "@grouppe/api/health";
import type { Logger } from "pino";
import { fixedKey, KeyRing, type TokenKeys } from "../auth/key-ring.js";
import { createPasswordHasher } from "../auth/passwords.js";
import { signingKeyFromPem } from "../auth/signing-key.js";
import { signingKeyStoreFor } from "../auth/signing-key-store.js";
import { Tokens } from "../auth/tokens.js";
import type { Config } from "../config.js";
import { createLive } from "../live/index.js";
import { createAuthService } from "../services/auth-service.js";
import { createCalendarService } from "../services/calendar-service.js";
import { createEventService } from "../services/event-service.js";
import { PageTokens } from "../services/page-token.js";
import { cacheEventReads } from "../store/cached-event-store.js";
import type { Db } from "../store/db.js";
import { serverSecret } from "../store/server-secret.js";
import type { Stores } from "../store/stores.js";
import { createAuthenticateInterceptor } from "./interceptors/authenticate.js";
import { createAuthorizeInterceptor } from "./interceptors/authorize.js";
import { createPublicErrorsInterceptor } from "./interceptors/public-errors.js";
import { createRateLimitInterceptor } from "./interceptors/rate-limit.js";
import { createValidationInterceptor } from "./interceptors/validate.js";
import { registerReflection } from "./reflection-service.js";

export interface Rpc {
  /** Registers every grouppe service (EventService, AuthService, CalendarService, reflection when enabled). */
  routes: (router: ConnectRouter) => void;
  /** Interceptors in order, outermost first: errors, authentication, rate limit, authorization, validation. */
  interceptors: Interceptor[];
  close(): Promise<void>;
}

export interface RpcDeps {
  config: Config;
  db: Db;
  stores: Stores;
  logger: Logger;
  /** Aborted when the server shuts down: open streams end with UNAVAILABLE. */
  shutdown: AbortSignal;
}

/** Everything behind the Connect router: services, their dependencies and interceptors. */
export async function createRpc(deps: RpcDeps): Promise<Rpc> {
  const { config, db, stores, logger, shutdown } = deps;
  const validator = createValidator();
  const keys = await openTokenKeys(deps);
  const tokens = new Tokens({ keys, ...config.auth });
  const events = await cacheEventReads(stores.events, db);
  // The change feed reads the store itself: it must see each change, never a cached copy. New
  // watch streams take their snapshot from the cache: reconnecting watchers (after a deploy,
  // say) then cost no database read each.
  const live = await createLive({
    db,
    events: stores.events,
    snapshots: events,
    config: config.live,
    shutdown,
    logger,
  });

  const pageTokens = new PageTokens(await serverSecret(db, "page-token"));
  const eventService = createEventService({ events, validator, watch: live, pageTokens });
  const authService = createAuthService({
    users: stores.users,
    sessions: stores.sessions,
    tokens,
    passwords: createPasswordHasher(config.auth.passwordCost),
  });
  const calendarService = createCalendarService({ feeds: stores.calendarFeeds });

  return {
    routes(router) {
      router.service(EventService, eventService);
      router.service(AuthService, authService);
      router.service(CalendarService, calendarService);
      if (config.reflection) {
        registerReflection(
          router,
          [...apiFiles, file_grpc_health_v1_health],
          [
            EventService.typeName,
            AuthService.typeName,
            CalendarService.typeName,
            "grpc.health.v1.Health",
          ],
        );
      }
    },
    interceptors: [
      createPublicErrorsInterceptor(logger),
      createAuthenticateInterceptor(tokens),
      createRateLimitInterceptor({
        limits: config.rateLimit,
        db,
        syncMs: config.rateLimit.syncMs,
        signal: shutdown,
        onSyncError: (error) => logger.warn({ err: error }, "sharing rate-limit counts failed"),
      }),
      createAuthorizeInterceptor(events),
      createValidationInterceptor(validator, [EventService.method.importEvents]),
    ],
    async close() {
      if (keys instanceof KeyRing) keys.close();
      await live.close();
      await events.close();
    },
  };
}

/**
 * The signing keys: the one in GROUPPE_JWT_KEY_FILE when set, else the key ring, kept where
 * every instance and `npm run rotate-keys` find it (see signing-key-store.ts).
 */
async function openTokenKeys({ config, db, logger }: RpcDeps): Promise<TokenKeys> {
  if (config.auth.signingKeyPem) {
    return fixedKey(await signingKeyFromPem(config.auth.signingKeyPem, "configured"));
  }
  return KeyRing.open({
    store: signingKeyStoreFor({ db, dataDir: config.dataDir }),
    accessTokenTtlSeconds: config.auth.accessTokenTtlSeconds,
    reloadMs: config.auth.keyReloadMs,
    onError: (error) => logger.error({ err: error }, "reading the signing key ring failed"),
  });
}
