import { setTimeout as delay } from "node:timers/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Listener } from "./listen.js";
import type { HealthStatus } from "./rpc/health-service.js";

/** After the grace period, how long calls get to send their UNAVAILABLE before sockets are cut. */
const lastWordsMs = 100;

/** Everything a graceful stop touches, in the order it touches them. */
export interface ShutdownPlan {
  logger: Logger;
  /** How long calls in flight get to finish. */
  graceMs: number;
  /** Makes `/readyz` answer 503. */
  markNotReady(): void;
  health: HealthStatus;
  listener: Listener;
  /** Aborted as the stop begins: open streams end with UNAVAILABLE. */
  shutdown: AbortController;
  /** Aborted when the grace period is over: calls still running end with UNAVAILABLE. */
  forceShutdown: AbortController;
  app: FastifyInstance;
  /** Closed last, in order (the RPC layer, then the database); a failure is logged, not thrown. */
  resources: ReadonlyArray<{ name: string; close(): Promise<void> }>;
}

function unavailable(): ConnectError {
  return new ConnectError("the server is shutting down", Code.Unavailable);
}

/**
 * Stops the server without losing calls that already started: readiness and health go
 * NOT_SERVING, no new connection is accepted, HTTP/2 connections get GOAWAY and HTTP/1.1
 * connections close once idle, streams are told to end, and unary calls in flight get up to
 * `graceMs` to finish. Whatever is still open then is cut. Resolves when everything is closed.
 */
export async function shutDown(plan: ShutdownPlan): Promise<void> {
  const { logger, listener } = plan;
  const started = performance.now();
  logger.info({ connections: listener.connections, graceMs: plan.graceMs }, "shutting down");
  plan.markNotReady();
  plan.health.shutDown();
  const drained = listener.drain();
  plan.shutdown.abort(unavailable());

  const grace = new AbortController();
  const inTime = await Promise.race([
    drained.then(() => true),
    delay(plan.graceMs, false, { signal: grace.signal }).catch(() => true),
  ]);
  grace.abort();
  if (!inTime) {
    logger.warn(
      { connections: listener.connections },
      "grace period over; ending the calls still running",
    );
    plan.forceShutdown.abort(unavailable());
    await Promise.race([drained, delay(lastWordsMs)]);
    listener.destroy();
  }

  await plan.app.close();
  for (const resource of plan.resources) {
    try {
      await resource.close();
    } catch (error) {
      logger.error({ err: error }, `closing ${resource.name} failed`);
    }
  }
  logger.info({ durationMs: Math.round(performance.now() - started) }, "shut down");
}

/**
 * Runs `stop` on the first SIGINT or SIGTERM, then exits 0 (1 when it failed). A second signal
 * exits at once, for an operator who does not want to wait. Returns a function that removes
 * the handlers.
 */
export function exitOnSignals(stop: () => Promise<void>, logger: Logger): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal; exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "signal received");
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.fatal({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}
