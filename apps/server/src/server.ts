import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { buildApp, healthServiceNames } from "./app.js";
import type { Config } from "./config.js";
import { type AdminListener, startAdminListener } from "./http/admin-listener.js";
import { Readiness } from "./http/readiness.js";
import { Listener, listen } from "./listen.js";
import { createLogger } from "./observability/logger.js";
import { RpcMetrics } from "./observability/metrics.js";
import { createRpc, type Rpc } from "./rpc/create-rpc.js";
import { HealthStatus } from "./rpc/health-service.js";
import { shutDown } from "./shutdown.js";
import { createStores, migrate, openDb, type Stores } from "./store/index.js";

/** How often the database is checked for `/readyz`, and how long a check may take. */
const readinessIntervalMs = 2_000;
const readinessTimeoutMs = 2_000;

/** A running grouppe server. */
export interface GrouppeServer {
  /** Where it listens, e.g. http://127.0.0.1:8080 (a wildcard host becomes loopback). */
  url: string;
  port: number;
  /** Where the admin listener (/metrics) is, when GROUPPE_ADMIN_PORT is set. */
  adminUrl?: string;
  app: FastifyInstance;
  /** Stops gracefully (see shutdown.ts) and closes the database; safe to call more than once. */
  close(): Promise<void>;
}

export interface CreateServerOptions {
  /** The logger to use; by default one made from the config (JSON on stdout). */
  logger?: Logger;
  /**
   * Wraps the stores before anything uses them, e.g. to count, trace or inject faults in
   * tests; by default the stores are used as built.
   */
  decorateStores?: (stores: Stores) => Stores;
}

/**
 * Starts grouppe: opens and migrates the database, builds the stores and the RPC layer, then
 * the Fastify app, and listens on the configured port. Whatever was opened is closed again
 * when a step fails.
 */
export async function createServer(
  config: Config,
  options: CreateServerOptions = {},
): Promise<GrouppeServer> {
  const logger = options.logger ?? createLogger(config);
  const db = await openDb({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    pgliteOptimize: config.pgliteOptimize,
    onError: (error, what) => logger.error({ err: error }, `database: ${what}`),
  });
  let rpc: Rpc | undefined;
  let app: FastifyInstance | undefined;
  let admin: AdminListener | undefined;
  const readiness = new Readiness({
    check: () => db.ping().then(() => true),
    intervalMs: readinessIntervalMs,
    timeoutMs: readinessTimeoutMs,
  });
  try {
    await migrate(db);
    const built = createStores(db);
    const stores = options.decorateStores ? options.decorateStores(built) : built;
    const shutdown = new AbortController();
    const forceShutdown = new AbortController();
    rpc = await createRpc({ config, db, stores, logger, shutdown: shutdown.signal });
    const listener = new Listener(config, logger);
    const health = new HealthStatus(healthServiceNames);
    let stopping = false;
    const ready = () => !stopping && readiness.ready;
    const metrics = new RpcMetrics();
    await readiness.start();
    app = await buildApp(config, {
      rpc,
      logger,
      ready,
      listener,
      health,
      metrics,
      shutdown: shutdown.signal,
      forceShutdown: forceShutdown.signal,
      calendar: { events: stores.events, feeds: stores.calendarFeeds },
    });
    const { url, port } = await listen(app, config);
    if (config.admin) {
      admin = await startAdminListener({ ...config.admin, metrics, ready, logger });
    }
    const runningAdmin = admin;
    const runningApp = app;
    const runningRpc = rpc;
    let closed: Promise<void> | undefined;
    return {
      url,
      port,
      adminUrl: admin?.url,
      app,
      close() {
        closed ??= shutDown({
          logger,
          graceMs: config.limits.shutdownGraceMs,
          markNotReady: () => {
            stopping = true;
          },
          health,
          listener,
          shutdown,
          forceShutdown,
          app: runningApp,
          resources: [
            { name: "the admin listener", close: async () => runningAdmin?.close() },
            {
              name: "the readiness check",
              close: async () => readiness.stop(),
            },
            { name: "the RPC layer", close: () => runningRpc.close() },
            { name: "the database", close: () => db.close() },
          ],
        });
        return closed;
      },
    };
  } catch (error) {
    readiness.stop();
    await admin?.close().catch(() => undefined);
    await app?.close().catch(() => undefined);
    await rpc?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw error;
  }
}
