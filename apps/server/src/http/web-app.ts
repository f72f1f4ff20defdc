import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fastifyStatic } from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { contentSecurityPolicyFor } from "./content-security-policy.js";

/** The page SvelteKit's static adapter writes for client-side routes, then the usual index. */
const fallbackPages = ["200.html", "index.html"];
const immutableAssets = "/_app/immutable/";
/**
 * Paths that belong to the API, never to the web app: `/<package>.<Service>/<Method>` for RPCs
 * and the operational endpoints.
 */
const apiPath =
  /^\/(?:[A-Za-z_]\w*\.)+[A-Za-z_]\w*(?:\/|$)|^\/(?:healthz|readyz|metrics)(?:[/?]|$)/;

/** Headers every page carries; the per-page Content-Security-Policy is added beside them. */
const pageHeaders = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cache-control": "no-cache",
} as const;

/** Computes each page's policy once per version of the file (by size and mtime). */
class PolicyCache {
  private readonly policies = new Map<string, { version: string; policy: string }>();

  policyFor(path: string, stat: { size: number; mtimeMs: number }): string {
    const version = `${stat.size}:${stat.mtimeMs}`;
    const cached = this.policies.get(path);
    if (cached?.version === version) return cached.policy;
    const policy = contentSecurityPolicyFor(readFileSync(path, "utf8"));
    this.policies.set(path, { version, policy });
    return policy;
  }
}

function wantsPage(request: FastifyRequest): boolean {
  if (request.method !== "GET" && request.method !== "HEAD") return false;
  if (apiPath.test(request.url)) return false;
  return request.headers.accept?.includes("text/html") ?? false;
}

/**
 * Serves the built web app from `webDir` when it exists: files as they are, the SPA fallback
 * page for client-side routes, hashed assets cached for a year, pages revalidated every time
 * and sent with a strict Content-Security-Policy. Anything else unknown is a JSON 404.
 */
export async function registerWebApp(app: FastifyInstance, webDir: string): Promise<void> {
  const fallback = existsSync(webDir)
    ? fallbackPages.find((page) => existsSync(join(webDir, page)))
    : undefined;
  if (existsSync(webDir)) {
    const policies = new PolicyCache();
    await app.register(fastifyStatic, {
      root: webDir,
      wildcard: true,
      index: ["index.html"],
      redirect: false,
      cacheControl: false,
      dotfiles: "ignore",
      setHeaders(reply, path, stat) {
        reply.header("x-content-type-options", "nosniff");
        if (path.endsWith(".html")) {
          for (const [name, value] of Object.entries(pageHeaders)) reply.header(name, value);
          reply.header("content-security-policy", policies.policyFor(path, stat));
        } else if (path.includes(immutableAssets)) {
          reply.header("cache-control", "public, max-age=31536000, immutable");
        } else {
          reply.header("cache-control", "no-cache");
        }
      },
    });
  }

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    if (
      fallback !== undefined &&
      wantsPage(request) &&
      statSync(join(webDir, fallback), { throwIfNoEntry: false })
    ) {
      return reply.sendFile(fallback);
    }
    return reply.code(404).send({
      error: "Not Found",
      message: `${request.method} ${request.url} is not here`,
      statusCode: 404,
    });
  });
}
