/**
 * @grouppe/server as a library: start the whole server in-process (tests, embedding, the
 * benchmark). The `grouppe-server` binary (`main.ts`) is the usual way to run it.
 *
 * @example
 * import { createServer, loadConfig } from "@grouppe/server";
 * const server = await createServer(loadConfig({ PORT: "0" }));
 * console.log(server.url);
 * await server.close();
 */
export { type Config, ConfigError, loadConfig } from "./config.js";
export { createLogger } from "./observability/logger.js";
export { type CreateServerOptions, createServer, type GrouppeServer } from "./server.js";
