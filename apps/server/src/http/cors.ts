import { cors as connectCors } from "@connectrpc/connect";
import { fastifyCors } from "@fastify/cors";
import type { FastifyInstance } from "fastify";

/** How long browsers may cache a preflight answer, in seconds. */
const preflightMaxAgeSeconds = 2 * 60 * 60;

/**
 * CORS for browsers on other origins, set up as connect-es recommends for Fastify, plus the
 * headers grouppe's web clients send and read. Only the configured origins, compared exactly,
 * get an Access-Control-Allow-Origin; no origin is ever reflected and credentials stay off
 * (tokens travel in Authorization, not cookies). With no origins configured nothing is added.
 */
export async function registerCors(
  app: FastifyInstance,
  origins: readonly string[],
): Promise<void> {
  if (origins.length === 0) return;
  await app.register(fastifyCors, {
    origin: [...origins],
    credentials: false,
    methods: [...connectCors.allowedMethods],
    allowedHeaders: [...connectCors.allowedHeaders, "Authorization", "X-Request-Id"],
    exposedHeaders: [...connectCors.exposedHeaders, "X-Request-Id"],
    maxAge: preflightMaxAgeSeconds,
    strictPreflight: true,
  });
}
