import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../src/testing/index.js";
import { curl } from "./support/transport-helpers.js";

const allowed = "https://app.example.com";

let server: TestServer;
let rpcUrl: string;

beforeAll(async () => {
  server = await startTestServer({ GROUPPE_CORS_ORIGINS: `${allowed},http://localhost:5173` });
  rpcUrl = `${server.baseUrl}/grpc.health.v1.Health/Check`;
});

afterAll(async () => {
  await server?.close();
});

function preflight(origin: string, extra: string[] = []) {
  return curl(rpcUrl, [
    "-X",
    "OPTIONS",
    "-H",
    `origin: ${origin}`,
    "-H",
    "access-control-request-method: POST",
    "-H",
    "access-control-request-headers: content-type,connect-protocol-version,authorization,x-request-id",
    ...extra,
  ]);
}

function call(origin: string) {
  return curl(rpcUrl, [
    "-H",
    `origin: ${origin}`,
    "-H",
    "content-type: application/json",
    "-H",
    "connect-protocol-version: 1",
    "--data",
    '{"service":""}',
  ]);
}

function varies(headers: Record<string, string>): string[] {
  return (headers.vary ?? "").split(",").map((name) => name.trim().toLowerCase());
}

describe("CORS", () => {
  it("lets a configured origin preflight a Connect call with grouppe's headers", async () => {
    const response = await preflight(allowed);
    expect(response.status).toBe(204);
    expect(response.headers["access-control-allow-origin"]).toBe(allowed);
    expect(response.headers["access-control-allow-methods"]).toBe("POST, GET");
    const allowedHeaders = (response.headers["access-control-allow-headers"] ?? "")
      .toLowerCase()
      .split(/,\s*/);
    for (const header of [
      "content-type",
      "connect-protocol-version",
      "authorization",
      "x-request-id",
      "x-grpc-web",
    ]) {
      expect(allowedHeaders).toContain(header);
    }
    expect(Number(response.headers["access-control-max-age"])).toBeGreaterThan(0);
    expect(response.headers["access-control-allow-credentials"]).toBeUndefined();
    expect(varies(response.headers)).toContain("origin");
  });

  it("names exactly the configured origin on the call and exposes the headers clients read", async () => {
    for (const origin of [allowed, "http://localhost:5173"]) {
      const response = await call(origin);
      expect(response.status).toBe(200);
      expect(response.headers["access-control-allow-origin"]).toBe(origin);
      expect(varies(response.headers)).toContain("origin");
      const exposed = (response.headers["access-control-expose-headers"] ?? "").toLowerCase();
      for (const header of ["grpc-status", "grpc-message", "x-request-id"])
        expect(exposed).toContain(header);
    }
  });

  it("gives other origins, look-alikes and the null origin no Access-Control-Allow-Origin", async () => {
    for (const origin of [
      "https://evil.example",
      "null",
      `${allowed}.evil.example`,
      "https://APP.example.com",
      "http://app.example.com",
    ]) {
      const answer = await call(origin);
      expect(answer.status, origin).toBe(200);
      expect(answer.headers["access-control-allow-origin"], origin).toBeUndefined();
      expect(varies(answer.headers), origin).toContain("origin");
      const asked = await preflight(origin);
      expect(asked.headers["access-control-allow-origin"], origin).toBeUndefined();
    }
  });

  it("refuses a preflight without the headers that make it one", async () => {
    const response = await curl(rpcUrl, ["-X", "OPTIONS", "-H", `origin: ${allowed}`]);
    expect(response.status).toBe(400);
  });

  it("applies the same rules over HTTP/2", async () => {
    const good = await curl(rpcUrl, [
      "--http2-prior-knowledge",
      "-X",
      "OPTIONS",
      "-H",
      `origin: ${allowed}`,
      "-H",
      "access-control-request-method: POST",
    ]);
    expect(good.httpVersion).toBe("2");
    expect(good.headers["access-control-allow-origin"]).toBe(allowed);
    const bad = await curl(rpcUrl, [
      "--http2-prior-knowledge",
      "-X",
      "OPTIONS",
      "-H",
      "origin: https://evil.example",
      "-H",
      "access-control-request-method: POST",
    ]);
    expect(bad.headers["access-control-allow-origin"]).toBeUndefined();
  });
});
