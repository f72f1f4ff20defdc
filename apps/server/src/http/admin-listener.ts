import type { AddressInfo } from "node:net";
import { type FastifyBaseLogger, fastify } from "fastify";
import type { Logger } from "pino";
import type { RpcMetrics } from "../observability/metrics.js";
import { registerMetrics, registerProbes } from "./probes.js";

/** The admin listener while it runs. */
export interface AdminListener {
  /** e.g. http://127.0.0.1:9090 */
  url: string;
  close(): Promise<void>;
}

/**
 * A second, plain HTTP/1.1 listener for operators: `/metrics` (plus the probes, so one port
 * serves a sidecar). It binds to loopback unless GROUPPE_ADMIN_HOST says otherwise, so call
 * counts, latencies and process figures stay off the public port.
 */
export async function startAdminListener(options: {
  host: string;
  port: number;
  metrics: RpcMetrics;
  ready: () => boolean;
  logger: Logger;
}): Promise<AdminListener> {
  const app = fastify({
    loggerInstance: options.logger.child({ listener: "admin" }) as FastifyBaseLogger,
    disableRequestLogging: true,
    bodyLimit: 1024,
    forceCloseConnections: true,
  });
  registerProbes(app, { ready: options.ready });
  registerMetrics(app, options.metrics);
  await app.listen({
    host: options.host,
    port: options.port,
    listenTextResolver: (a) => `admin listener at ${a}`,
  });
  const address = app.server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return { url: `http://${host}:${address.port}`, close: () => app.close() };
}
