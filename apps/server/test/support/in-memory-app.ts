import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createRpc } from "../../src/rpc/create-rpc.js";
import type { Db } from "../../src/store/db.js";
import { createStores, migrate, openDb } from "../../src/store/index.js";
import { createTestDataDir } from "../../src/testing/index.js";

/** The Fastify app with every RPC, not listening: for `app.inject()` tests that need no wire. */
export interface InMemoryApp {
  app: FastifyInstance;
  db: Db;
  close(): Promise<void>;
}

/**
 * Builds the app as the server does (config from `env` over test defaults, migrated database,
 * RPC layer), on PGlite in a test data directory or on `DATABASE_URL` when `env` names one.
 */
export async function buildInMemoryApp(env: Record<string, string> = {}): Promise<InMemoryApp> {
  const dataDir = await createTestDataDir("grouppe-inject-");
  const config = loadConfig({
    LOG_LEVEL: "silent",
    GROUPPE_DATA_DIR: dataDir,
    GROUPPE_WEB_DIR: join(dataDir, "no-web-app"),
    GROUPPE_RATE_LIMIT_USER: "100000",
    GROUPPE_RATE_LIMIT_IP: "100000",
    GROUPPE_RATE_LIMIT_AUTH: "100000",
    ...env,
  });
  const logger = pino({ level: "silent" });
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir });
  await migrate(db);
  const shutdown = new AbortController();
  const rpc = await createRpc({
    config,
    db,
    stores: createStores(db),
    logger,
    shutdown: shutdown.signal,
  });
  const app = await buildApp(config, { rpc, logger, ready: async () => true });
  await app.ready();
  return {
    app,
    db,
    async close() {
      shutdown.abort();
      await app.close();
      await rpc.close();
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
