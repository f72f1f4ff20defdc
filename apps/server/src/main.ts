#!/usr/bin/env node
import { type Config, ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./observability/logger.js";
import { createServer } from "./server.js";
import { exitOnSignals } from "./shutdown.js";

/** Start-up failures an operator fixes from one line: bad settings, a taken port. */
function fail(message: string): never {
  process.stderr.write(`grouppe: ${message}\n`);
  process.exit(1);
}

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}

const logger = createLogger(config);
try {
  const server = await createServer(config, { logger });
  logger.info({ url: server.url, tls: config.tls !== undefined }, "grouppe started");
  exitOnSignals(() => server.close(), logger);
} catch (error) {
  logger.fatal({ err: error }, "grouppe could not start");
  logger.flush();
  fail(error instanceof Error ? error.message : String(error));
}
