import { setTimeout as delay } from "node:timers/promises";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { buildApp, healthServiceNames } from "./app.js";
import type { Config } from "./config.js";
import { Listener, listen } from "./listen.js";
import { createLogger } from "./observability/logger.js";
import { RpcMetrics } from "./observability/metrics.js";
import { createRpc, type Rpc } from "./rpc/create-rpc.js";
import { HealthStatus } from "./rpc/health-service.js";
import { shutDown } from "./shutdown.js";
import type { Db } from "./store/db.js";
import { createStores, migrate, openDb } from "./store/index.js";

/** How long `/readyz` waits for the database before calling it unreachable. */
const readinessPingMs = 2_000;

/** A running grouppe server. */
export interface GrouppeServer {
  /** Where it listens, e.g. http://127.0.0.1:8080 (a wildcard host becomes loopback). */
  url: string;
  port: number;
  app: FastifyInstance;
  /** Stops gracefully (see shutdown.ts) and closes the database; safe to call more than once. */
  close(): Promise<void>;
}

export interface CreateServerOptions {
  /** The logger to use; by default one made from the config (JSON on stdout). */
  logger?: Logger;
}

async function answers(db: Db): Promise<boolean> {
  const timeout = new AbortController();
  try {
    return await Promise.race([
      db.ping().then(() => true),
      delay(readinessPingMs, false, { signal: timeout.signal }),
    ]);
  } catch {
    return false;
  } finally {
    timeout.abort();
  }
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
    onError: (error, what) => logger.error({ err: error }, `database: ${what}`),
  });
  let rpc: Rpc | undefined;
  let app: FastifyInstance | undefined;
  try {
    await migrate(db);
    const stores = createStores(db);
    const shutdown = new AbortController();
    const forceShutdown = new AbortController();
    rpc = await createRpc({ config, db, stores, logger, shutdown: shutdown.signal });
    const listener = new Listener(config, logger);
    const health = new HealthStatus(healthServiceNames);
    let stopping = false;
    app = await buildApp(config, {
      rpc,
      logger,
      ready: async () => !stopping && (await answers(db)),
      listener,
      health,
      metrics: new RpcMetrics(),
      shutdown: shutdown.signal,
      forceShutdown: forceShutdown.signal,
      calendar: { events: stores.events, feeds: stores.calendarFeeds },
    });
    const { url, port } = await listen(app, config);
    const runningApp = app;
    const runningRpc = rpc;
    let closed: Promise<void> | undefined;
    return {
      url,
      port,
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
            { name: "the RPC layer", close: () => runningRpc.close() },
            { name: "the database", close: () => db.close() },
          ],
        });
        return closed;
      },
    };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await rpc?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw error;
  }
}
