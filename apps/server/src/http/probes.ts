import type { FastifyInstance } from "fastify";
import type { RpcMetrics } from "../observability/metrics.js";

const noStore = "no-store";

/**
 * The probes: `/healthz` answers 200 while the process runs (liveness), `/readyz` 200 only
 * while `ready()` holds (the database answered the latest background check and no shutdown
 * began), else 503. `ready()` reads a cached answer (see readiness.ts), so probes cost no query.
 */
export function registerProbes(
  app: FastifyInstance,
  deps: { ready: () => boolean | Promise<boolean> },
): void {
  app.get("/healthz", async (_request, reply) => {
    reply.header("cache-control", noStore);
    return { status: "ok" };
  });
  app.get("/readyz", async (_request, reply) => {
    reply.header("cache-control", noStore);
    const ready = await Promise.resolve()
      .then(deps.ready)
      .catch(() => false);
    reply.code(ready ? 200 : 503);
    return { status: ready ? "ready" : "not ready" };
  });
}

/** `/metrics`, the Prometheus text exposition; only on the admin listener (admin-listener.ts). */
export function registerMetrics(app: FastifyInstance, metrics: RpcMetrics): void {
  app.get("/metrics", async (_request, reply) => {
    const { contentType, body } = await metrics.scrape();
    reply.header("cache-control", noStore).type(contentType);
    return body;
  });
}
