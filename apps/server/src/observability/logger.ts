import { type DestinationStream, type Logger, pino } from "pino";
import type { Config } from "../config.js";

/** The key every log line uses for the request id, in Fastify's lines and the RPC line alike. */
export const requestIdLogKey = "requestId";

/**
 * The server's one pino logger: JSON lines on stdout, or pino-pretty when a person is watching
 * a development server in a terminal. A `destination` (tests) takes precedence over both.
 */
export function createLogger(
  config: Pick<Config, "production" | "logLevel">,
  destination?: DestinationStream,
): Logger {
  const options = { level: config.logLevel, base: { pid: process.pid } };
  if (destination) return pino(options, destination);
  if (!config.production && process.stdout.isTTY) {
    return pino({
      ...options,
      transport: { target: "pino-pretty", options: { translateTime: "HH:MM:ss.l", ignore: "pid" } },
    });
  }
  // Asynchronous writes keep the disk or pipe off the request path; lines written while one
  // write is pending go out together. pino flushes what is left when the process exits.
  return pino(options, pino.destination({ dest: 1, sync: false }));
}
