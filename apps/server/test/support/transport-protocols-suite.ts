import { randomUUID } from "node:crypto";
import http2 from "node:http2";
import net from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@grouppe/api/health";
import { eventually } from "@grouppe/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../src/testing/index.js";
import { curl, GrpcJsHealthClient } from "./transport-helpers.js";
import { allTransports } from "./transports.js";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const checkJson = ["-H", "content-type: application/json", "--data", '{"service":""}'];

/**
 * The protocol tests every way of serving RPCs must pass: connect-node over all its transports,
 * grpc-js and curl on one port, request ids, logs, metrics, CORS and deadline capping. Run
 * once per `GROUPPE_ENGINE` setting, each in its own test file (one server per file).
 */
export function describeTransportProtocols(env: Record<string, string>): void {
  let server: TestServer;
  let clients: ReturnType<typeof allTransports>;
  let grpcJs: GrpcJsHealthClient;

  beforeAll(async () => {
    // /metrics is served by the admin listener only.
    server = await startTestServer({ GROUPPE_ADMIN_PORT: "0", ...env });
    clients = allTransports(server.baseUrl);
    grpcJs = new GrpcJsHealthClient(`127.0.0.1:${server.port}`);
  });

  afterAll(async () => {
    grpcJs?.close();
    clients?.close();
    await server?.close();
  });

  function logLines(): Record<string, unknown>[] {
    return server.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  describe("one port for every protocol", () => {
    it("answers connect-node, grpc-js and curl over HTTP/1.1 and HTTP/2 at the same time", async () => {
      // A gRPC stream stays open over HTTP/2 while every other kind of call runs beside it.
      const watch = grpcJs.watch("");
      const watched: ServingStatus[] = [];
      watch.on("data", (message: { status: ServingStatus }) => watched.push(message.status));
      watch.on("error", () => undefined);
      await eventually(() => watched.length > 0, {
        what: "the first Watch message",
        timeoutMs: 20_000,
      });

      const calls = [
        ...clients.transports.map(async ({ name, transport }) => {
          const requestId = `connect-${randomUUID()}`;
          let echoed: string | null = null;
          const response = await createClient(Health, transport).check(
            { service: "" },
            {
              headers: { "x-request-id": requestId },
              onHeader: (headers) => (echoed = headers.get("x-request-id")),
            },
          );
          return { name, status: response.status, sent: requestId, echoed };
        }),
        (async () => {
          const requestId = `grpc-js-${randomUUID()}`;
          const { response, requestId: echoed } = await grpcJs.check("", requestId);
          return { name: "grpc-js", status: response.status, sent: requestId, echoed };
        })(),
        ...(["--http1.1", "--http2-prior-knowledge"] as const).map(async (flag) => {
          const requestId = `curl-${randomUUID()}`;
          const response = await curl(`${server.baseUrl}/grpc.health.v1.Health/Check`, [
            flag,
            ...checkJson,
            "-H",
            `x-request-id: ${requestId}`,
          ]);
          expect(response.httpVersion).toBe(flag === "--http1.1" ? "1.1" : "2");
          const status = (JSON.parse(response.body) as { status: string }).status;
          return {
            name: `curl ${flag}`,
            status: status === "SERVING" ? ServingStatus.SERVING : ServingStatus.UNKNOWN,
            sent: requestId,
            echoed: response.headers["x-request-id"],
          };
        }),
      ];
      const results = await Promise.all(calls);

      expect(results).toHaveLength(clients.transports.length + 3);
      for (const result of results) {
        expect(result, result.name).toMatchObject({
          status: ServingStatus.SERVING,
          echoed: result.sent,
        });
      }
      expect(watched).toEqual([ServingStatus.SERVING]);
      watch.cancel();
    });

    it("streams server messages over every transport", async () => {
      for (const { name, transport } of clients.transports) {
        const abort = new AbortController();
        const stream = createClient(Health, transport).watch(
          { service: "" },
          { signal: abort.signal },
        );
        const first = await stream[Symbol.asyncIterator]().next();
        expect(first.value?.status, name).toBe(ServingStatus.SERVING);
        abort.abort();
      }
    });

    it("serves plain HTTP/1.1 and h2c endpoints to curl", async () => {
      const h1 = await curl(`${server.baseUrl}/healthz`);
      expect(h1).toMatchObject({ httpVersion: "1.1", status: 200 });
      const h2 = await curl(`${server.baseUrl}/healthz`, ["--http2-prior-knowledge"]);
      expect(h2).toMatchObject({ httpVersion: "2", status: 200 });
      // curl's Upgrade: h2c dance is not supported; it must still get its answer over HTTP/1.1.
      const upgrade = await curl(`${server.baseUrl}/healthz`, ["--http2"]);
      expect(upgrade.status).toBe(200);
    });

    it("takes the HTTP/2 preface however it is split into packets", async () => {
      for (const firstPiece of [1, 5, 23]) {
        const socket = net.connect(server.port, "127.0.0.1");
        await new Promise((resolve, reject) =>
          socket.once("connect", resolve).once("error", reject),
        );
        // Split the client's first write (the preface) and send the rest a little later.
        const write = socket.write.bind(socket) as (chunk: Buffer) => boolean;
        let first = true;
        socket.write = ((chunk: Buffer, ...rest: unknown[]) => {
          if (first && Buffer.isBuffer(chunk)) {
            first = false;
            write(chunk.subarray(0, firstPiece));
            setTimeout(
              () =>
                (socket.write as (...args: unknown[]) => boolean)(
                  chunk.subarray(firstPiece),
                  ...rest,
                ),
              30,
            );
            return true;
          }
          return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
        }) as typeof socket.write;
        const session = http2.connect(server.baseUrl, { createConnection: () => socket });
        const body = await new Promise<string>((resolve, reject) => {
          const stream = session.request({ ":path": "/healthz" });
          let text = "";
          stream.setEncoding("utf8");
          stream.on("data", (chunk: string) => (text += chunk));
          stream.on("end", () => resolve(text));
          stream.on("error", reject);
        });
        expect(JSON.parse(body), `first piece of ${firstPiece} bytes`).toEqual({ status: "ok" });
        session.close();
      }
    });
  });

  describe("request ids", () => {
    it("keeps a sane x-request-id and replaces anything else with a UUID", async () => {
      const url = `${server.baseUrl}/grpc.health.v1.Health/Check`;
      const kept = await curl(url, [...checkJson, "-H", "x-request-id: trace-42.a:b/c"]);
      expect(kept.headers["x-request-id"]).toBe("trace-42.a:b/c");
      for (const unsafe of ["has spaces in it", "x".repeat(129), "<script>"]) {
        const replaced = await curl(url, [...checkJson, "-H", `x-request-id: ${unsafe}`]);
        expect(replaced.headers["x-request-id"]).toMatch(uuid);
      }
      const generated = await curl(url, checkJson);
      expect(generated.headers["x-request-id"]).toMatch(uuid);
      const page = await curl(`${server.baseUrl}/healthz`);
      expect(page.headers["x-request-id"]).toMatch(uuid);
    });

    it("gives gRPC calls over HTTP/2 the same request ids and log lines", async () => {
      const { requestId: generated } = await grpcJs.check("");
      expect(generated).toMatch(uuid);
      const { requestId: replaced } = await grpcJs.check("", "has spaces in it");
      expect(replaced).toMatch(uuid);
      const requestId = `grpc-${randomUUID()}`;
      const { requestId: kept } = await grpcJs.check("", requestId);
      expect(kept).toBe(requestId);
      await eventually(() => logLines().some((line) => line.requestId === requestId), {
        what: "the RPC log line",
        timeoutMs: 5_000,
      });
      const lines = logLines().filter((line) => line.requestId === requestId);
      expect(lines).toEqual([
        expect.objectContaining({
          msg: "rpc finished",
          rpc: "grpc.health.v1.Health/Check",
          protocol: "grpc_proto",
          code: "OK",
        }),
      ]);
    });

    it("logs each RPC once, with its request id, protocol, code and duration but no headers or body", async () => {
      const requestId = `log-${randomUUID()}`;
      const secret = `Bearer secret-${randomUUID()}`;
      await curl(`${server.baseUrl}/grpc.health.v1.Health/Check`, [
        ...checkJson,
        "-H",
        `x-request-id: ${requestId}`,
        "-H",
        `x-api-key: ${secret}`,
      ]);
      await eventually(() => logLines().some((line) => line.requestId === requestId), {
        what: "the RPC log line",
        timeoutMs: 5_000,
      });
      const lines = logLines().filter((line) => line.requestId === requestId);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        msg: "rpc finished",
        rpc: "grpc.health.v1.Health/Check",
        protocol: "connect_json",
        code: "OK",
        level: 30,
      });
      expect(typeof lines[0]?.durationMs).toBe("number");
      expect(server.logs.join("\n")).not.toContain(secret);

      const pageId = `page-${randomUUID()}`;
      await curl(`${server.baseUrl}/healthz?token=hidden`, ["-H", `x-request-id: ${pageId}`]);
      await eventually(() => logLines().some((line) => line.requestId === pageId), {
        what: "the request log line",
        timeoutMs: 5_000,
      });
      const pageLines = logLines().filter((line) => line.requestId === pageId);
      expect(pageLines).toEqual([
        expect.objectContaining({
          msg: "request completed",
          method: "GET",
          path: "/healthz",
          statusCode: 200,
        }),
      ]);
      expect(JSON.stringify(pageLines)).not.toContain("hidden");
    });
  });

  describe("metrics", () => {
    it("are on the loopback admin listener, not on the public port", async () => {
      expect(server.server.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await curl(`${server.baseUrl}/metrics`)).status).toBe(404);
      expect((await curl(`${server.server.adminUrl}/metrics`)).status).toBe(200);
      expect((await curl(`${server.server.adminUrl}/readyz`)).status).toBe(200);
    });

    it("counts RPCs by service, method, protocol and code, and times them", async () => {
      const grpc = createClient(Health, createGrpcTransport({ baseUrl: server.baseUrl }));
      await grpc.check({ service: "" });
      await grpc.check({ service: "" });
      const unknown = await grpc
        .check({ service: "no.such.Service" })
        .catch((error: unknown) => ConnectError.from(error));
      expect((unknown as ConnectError).code).toBe(Code.NotFound);

      const text = (await curl(`${server.server.adminUrl}/metrics`)).body;
      const sample = (name: string, labels: string) => {
        const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
        return line === undefined ? undefined : Number(line.split(" ").at(-1));
      };
      const check = 'service="grpc.health.v1.Health",method="Check",protocol="grpc_proto"';
      expect(sample("grpc_server_handled_total", `${check},code="OK"`)).toBeGreaterThanOrEqual(2);
      expect(
        sample("grpc_server_handled_total", `${check},code="NotFound"`),
      ).toBeGreaterThanOrEqual(1);
      expect(sample("grpc_server_handling_seconds_count", check)).toBeGreaterThanOrEqual(3);
      expect(sample("grpc_server_handling_seconds_bucket", `${check},le="+Inf"`)).toBe(
        sample("grpc_server_handling_seconds_count", check),
      );
      expect(sample("grpc_server_in_flight", check)).toBe(0);
      expect(text).toContain("process_cpu_user_seconds_total");
    });

    it("shows open streams while they are open", async () => {
      const sessionManager = new Http2SessionManager(server.baseUrl);
      const grpc = createClient(
        Health,
        createGrpcTransport({ baseUrl: server.baseUrl, sessionManager }),
      );
      const watch =
        'grpc_server_open_streams{service="grpc.health.v1.Health",method="Watch",protocol="grpc_proto"}';
      const openStreams = async () => {
        const line = (await curl(`${server.server.adminUrl}/metrics`)).body
          .split("\n")
          .find((l) => l.startsWith(watch));
        return line === undefined ? 0 : Number(line.split(" ").at(-1));
      };
      const before = await openStreams();
      const abort = new AbortController();
      const stream = grpc.watch({ service: "" }, { signal: abort.signal })[Symbol.asyncIterator]();
      await stream.next();
      expect(await openStreams()).toBe(before + 1);
      abort.abort();
      await stream.next().catch(() => undefined);
      // The server learns of the cancel from the client's RST_STREAM, a moment later.
      let after = -1;
      await eventually(
        async () => {
          after = await openStreams();
          return after === before;
        },
        { what: "the cancelled stream closed on the server" },
      ).catch(() => undefined);
      expect(after).toBe(before);
      sessionManager.abort();
    });
  });

  describe("CORS without configured origins", () => {
    it("adds no CORS headers for any origin", async () => {
      const response = await curl(`${server.baseUrl}/grpc.health.v1.Health/Check`, [
        ...checkJson,
        "-H",
        "origin: https://app.example.com",
      ]);
      expect(response.status).toBe(200);
      expect(response.headers["access-control-allow-origin"]).toBeUndefined();
      const preflight = await curl(`${server.baseUrl}/grpc.health.v1.Health/Check`, [
        "-X",
        "OPTIONS",
        "-H",
        "origin: https://app.example.com",
        "-H",
        "access-control-request-method: POST",
      ]);
      expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
    });
  });

  describe("deadlines", () => {
    it("caps a deadline above GROUPPE_MAX_TIMEOUT_MS instead of refusing it", async () => {
      const grpc = createClient(Health, createGrpcTransport({ baseUrl: server.baseUrl }));
      const response = await grpc.check({ service: "" }, { timeoutMs: 121_000 });
      expect(response.status).toBe(ServingStatus.SERVING);
      const connect = await curl(`${server.baseUrl}/grpc.health.v1.Health/Check`, [
        ...checkJson,
        "-H",
        "connect-timeout-ms: 121000",
      ]);
      expect(connect.status).toBe(200);
    });
  });
}
