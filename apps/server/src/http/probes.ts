import type { FastifyInstance } from "fastify";
import type { RpcMetrics } from "../observability/metrics.js";

/**
 * The operational endpoints: `/healthz` answers 200 while the process runs (liveness),
 * `/readyz` 200 only while `ready()` holds (the database answers and no shutdown began), else
 * 503, and `/metrics` the Prometheus text exposition.
 */
export function registerProbes(
  app: FastifyInstance,
  deps: { ready: () => Promise<boolean>; metrics: RpcMetrics },
): void {
  const noStore = "no-store";
  app.get("/healthz", async (_request, reply) => {
    reply.header("cache-control", noStore);
    return { status: "ok" };
  });
  app.get("/readyz", async (_request, reply) => {
    reply.header("cache-control", noStore);
    const ready = await deps.ready().catch(() => false);
    reply.code(ready ? 200 : 503);
    return { status: ready ? "ready" : "not ready" };
  });
  app.get("/metrics", async (_request, reply) => {
    const { contentType, body } = await deps.metrics.scrape();
    reply.header("cache-control", noStore).type(contentType);
    return body;
  });
}
