import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fastifyStatic } from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { contentSecurityPolicyFor } from "./content-security-policy.js";

/** The page SvelteKit's static adapter writes for client-side routes, then the usual index. */
const fallbackPages = ["200.html", "index.html"];
const immutableAssets = "/_app/immutable/";
/** The copies the web build writes beside each text file (apps/web/scripts/precompress.mjs). */
const precompressed = /\.(?:br|gz)$/;
/** Requests for files (the app's own, or anything with an extension): never a page. */
const assetPath = /^\/_app\/|\.[A-Za-z0-9]+$/;
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

/** Computes each page's policy once per version of the file sent (by size and mtime). */
class PolicyCache {
  private readonly policies = new Map<string, { version: string; policy: string }>();

  /** `sentPath` is the file sent: `page` itself or its compressed copy, whose `stat` this is. */
  policyFor(page: string, sentPath: string, stat: { size: number; mtimeMs: number }): string {
    const version = `${stat.size}:${stat.mtimeMs}`;
    const cached = this.policies.get(sentPath);
    if (cached?.version === version) return cached.policy;
    const policy = contentSecurityPolicyFor(readFileSync(page, "utf8"));
    this.policies.set(sentPath, { version, policy });
    return policy;
  }
}

/** Whether an unknown path could be one of the app's client-side routes. */
function mayBeRoute(request: FastifyRequest): boolean {
  if (request.method !== "GET" && request.method !== "HEAD") return false;
  const path = request.url.split("?", 1)[0] ?? "";
  return !apiPath.test(path) && !assetPath.test(path);
}

/**
 * Browsers ask for HTML, curl and most tools for anything (`* / *`, or no Accept at all): both
 * get the app. Only a client that asks for JSON and not for HTML gets the JSON 404.
 */
function wantsPage(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? "";
  return accept.includes("text/html") || !accept.includes("json");
}

/**
 * Serves the built web app from `webDir` when it exists: files as they are, or their brotli or
 * gzip copy made at build time when the client accepts one; the SPA fallback page for
 * client-side routes; hashed assets cached for a year, pages revalidated every time and sent
 * with a strict Content-Security-Policy. Anything else unknown is a JSON 404.
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
      preCompressed: true,
      setHeaders(reply, sentPath, stat) {
        // The policy is read from the page itself, not from its compressed copy.
        const path = sentPath.replace(precompressed, "");
        reply.header("x-content-type-options", "nosniff");
        if (path.endsWith(".html")) {
          for (const [name, value] of Object.entries(pageHeaders)) reply.header(name, value);
          reply.header("content-security-policy", policies.policyFor(path, sentPath, stat));
        } else if (path.includes(immutableAssets)) {
          reply.header("cache-control", "public, max-age=31536000, immutable");
        } else {
          reply.header("cache-control", "no-cache");
        }
      },
    });
  }

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    if (fallback !== undefined && mayBeRoute(request)) {
      // The same URL is a page or a JSON 404 depending on Accept.
      reply.header("vary", "accept");
      if (wantsPage(request) && statSync(join(webDir, fallback), { throwIfNoEntry: false })) {
        return reply.sendFile(fallback);
      }
    }
    return reply.code(404).send({
      error: "Not Found",
      message: `${request.method} ${request.url} is not here`,
      statusCode: 404,
    });
  });
}
