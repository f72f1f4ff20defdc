import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { AuthService } from "@grouppe/api";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src/app.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { watcherOwner } from "../src/live/watcher-limits.js";
import { createRateLimitInterceptor } from "../src/rpc/interceptors/rate-limit.js";

/** An app whose only RPC is a LogIn that always fails, behind the real rate limits (2 per minute). */
async function appWith(env: Record<string, string>): Promise<FastifyInstance> {
  const dir = mkdtempSync(join(tmpdir(), "grouppe-proxy-"));
  const config = loadConfig({
    GROUPPE_DATA_DIR: dir,
    GROUPPE_WEB_DIR: join(dir, "none"),
    GROUPPE_RATE_LIMIT_AUTH: "2",
    ...env,
  });
  const logger = pino({ level: "silent" });
  const app = await buildApp(config, {
    logger,
    ready: async () => true,
    rpc: {
      routes(router) {
        router.service(AuthService, {
          logIn() {
            throw new ConnectError("wrong email or password", Code.Unauthenticated);
          },
        });
      },
      interceptors: [createRateLimitInterceptor({ limits: config.rateLimit })],
      close: async () => undefined,
    },
  });
  await app.ready();
  return app;
}

/** LogIn from `remoteAddress` with an X-Forwarded-For chain; the Connect code it got. */
async function logIn(app: FastifyInstance, remoteAddress: string, forwardedFor?: string) {
  const response = await app.inject({
    method: "POST",
    url: "/grouppe.v1.AuthService/LogIn",
    remoteAddress,
    headers: {
      "content-type": "application/json",
      ...(forwardedFor ? { "x-forwarded-for": forwardedFor } : {}),
    },
    payload: JSON.stringify({ email: "ada@example.com", password: "guess" }),
  });
  return (response.json() as { code: string }).code;
}

let direct: FastifyInstance;
let proxied: FastifyInstance;

beforeAll(async () => {
  direct = await appWith({});
  proxied = await appWith({ GROUPPE_TRUST_PROXY: "10.0.0.0/8" });
});

afterAll(async () => {
  await direct?.close();
  await proxied?.close();
});

describe("client addresses", () => {
  it("behind a trusted proxy, counts the sign-in limit per client, not per proxy", async () => {
    const proxy = "10.1.2.3";
    expect(await logIn(proxied, proxy, "198.51.100.1")).toBe("unauthenticated");
    expect(await logIn(proxied, proxy, "198.51.100.1")).toBe("unauthenticated");
    expect(await logIn(proxied, proxy, "198.51.100.1")).toBe("resource_exhausted");
    // Another client through the same proxy still gets its own attempts.
    expect(await logIn(proxied, proxy, "198.51.100.2")).toBe("unauthenticated");
  });

  it("ignores X-Forwarded-For from anyone it does not trust", async () => {
    expect(await logIn(direct, "192.0.2.9", "198.51.100.3")).toBe("unauthenticated");
    expect(await logIn(direct, "192.0.2.9", "198.51.100.4")).toBe("unauthenticated");
    expect(await logIn(direct, "192.0.2.9", "198.51.100.5")).toBe("resource_exhausted");
    // A forged header from an untrusted peer names nobody: the proxy list is not a bypass.
    expect(await logIn(proxied, "192.0.2.10", "10.1.2.3")).toBe("unauthenticated");
  });

  it("counts IPv6 clients per /64", async () => {
    expect(await logIn(direct, "2001:db8:1:2::1")).toBe("unauthenticated");
    expect(await logIn(direct, "2001:db8:1:2::2")).toBe("unauthenticated");
    expect(await logIn(direct, "2001:db8:1:2:ffff::3")).toBe("resource_exhausted");
    expect(await logIn(direct, "2001:db8:1:3::1")).toBe("unauthenticated");
    const anonymous = { kind: "anonymous" } as const;
    expect(watcherOwner(anonymous, { ip: "2001:db8:1:2::1", requestId: "" })).toBe(
      watcherOwner(anonymous, { ip: "2001:db8:1:2:abcd::9", requestId: "" }),
    );
  });

  it("reads GROUPPE_TRUST_PROXY as off, a hop count or a list of proxies", () => {
    const read = (value: string) => loadConfig({ GROUPPE_TRUST_PROXY: value }).trustProxy;
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(read("0")).toBe(false);
    expect(read("2")).toBe(2);
    expect(read("10.0.0.0/8, 192.0.2.1,2001:db8::/32,loopback")).toEqual([
      "10.0.0.0/8",
      "192.0.2.1",
      "2001:db8::/32",
      "loopback",
    ]);
    for (const bad of ["11", "everyone", "10.0.0.0/33", "2001:db8::/129", "10.0.0.1/8/1"]) {
      expect(() => read(bad)).toThrow(ConfigError);
    }
  });
});
