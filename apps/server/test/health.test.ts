import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { AuthService, CalendarService, EventService } from "@grouppe/api";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@grouppe/api/health";
import { eventually } from "@grouppe/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthStatus } from "../src/rpc/health-service.js";
import { startTestServer, type TestServer } from "../src/testing/index.js";
import { curl, GrpcJsHealthClient } from "./support/transport-helpers.js";

describe("HealthStatus", () => {
  it("tells watchers every change, and NOT_SERVING for good after shutdown", async () => {
    const health = new HealthStatus(["a.Service"]);
    const abort = new AbortController();
    const seen: ServingStatus[] = [];
    const watching = (async () => {
      for await (const status of health.watch("a.Service", abort.signal)) seen.push(status);
    })();
    await new Promise((resolve) => setImmediate(resolve));
    health.set("a.Service", ServingStatus.NOT_SERVING);
    await new Promise((resolve) => setImmediate(resolve));
    health.set("a.Service", ServingStatus.SERVING);
    await new Promise((resolve) => setImmediate(resolve));
    health.shutDown();
    health.set("a.Service", ServingStatus.SERVING);
    abort.abort();
    await watching;
    expect(seen).toEqual([
      ServingStatus.SERVING,
      ServingStatus.NOT_SERVING,
      ServingStatus.SERVING,
      ServingStatus.NOT_SERVING,
    ]);
    expect(health.get("a.Service")).toBe(ServingStatus.NOT_SERVING);
    expect(health.get("")).toBe(ServingStatus.NOT_SERVING);
  });

  it("reports SERVICE_UNKNOWN to a watcher of an unknown service", async () => {
    const health = new HealthStatus([]);
    const abort = new AbortController();
    const iterator = health.watch("nope", abort.signal);
    expect((await iterator.next()).value).toBe(ServingStatus.SERVICE_UNKNOWN);
    abort.abort();
    expect((await iterator.next()).done).toBe(true);
  });
});

describe("grpc.health.v1.Health", () => {
  let server: TestServer;
  let sessionManager: Http2SessionManager;
  let grpcJs: GrpcJsHealthClient;

  beforeAll(async () => {
    server = await startTestServer();
    sessionManager = new Http2SessionManager(server.baseUrl);
    grpcJs = new GrpcJsHealthClient(`127.0.0.1:${server.port}`);
  });

  afterAll(async () => {
    grpcJs?.close();
    sessionManager?.abort();
    await server?.close();
  });

  it("reports the server and each grouppe service SERVING", async () => {
    const grpc = createClient(
      Health,
      createGrpcTransport({ baseUrl: server.baseUrl, sessionManager }),
    );
    for (const service of [
      "",
      EventService.typeName,
      AuthService.typeName,
      CalendarService.typeName,
    ]) {
      expect((await grpc.check({ service })).status, service).toBe(ServingStatus.SERVING);
      expect((await grpcJs.check(service)).response.status, service).toBe(ServingStatus.SERVING);
    }
  });

  it("lists the server and every grouppe service with its status", async () => {
    const connect = createClient(
      Health,
      createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
    );
    const { statuses } = await connect.list({});
    expect(
      Object.fromEntries(Object.entries(statuses).map(([name, answer]) => [name, answer.status])),
    ).toEqual({
      "": ServingStatus.SERVING,
      [EventService.typeName]: ServingStatus.SERVING,
      [AuthService.typeName]: ServingStatus.SERVING,
      [CalendarService.typeName]: ServingStatus.SERVING,
    });
  });

  it("answers NOT_FOUND for a service it does not serve", async () => {
    const connect = createClient(
      Health,
      createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
    );
    const error = await connect
      .check({ service: "grouppe.v1.NoSuchService" })
      .catch((e: unknown) => ConnectError.from(e));
    expect((error as ConnectError).code).toBe(Code.NotFound);
    const fromGrpcJs = await grpcJs
      .check("grouppe.v1.NoSuchService")
      .catch((e: { code?: number }) => e);
    expect((fromGrpcJs as { code?: number }).code).toBe(Code.NotFound);
    const response = await curl(`${server.baseUrl}/grpc.health.v1.Health/Check`, [
      "-H",
      "content-type: application/json",
      "--data",
      '{"service":"grouppe.v1.NoSuchService"}',
    ]);
    expect(response.status).toBe(404);
  });

  it("keeps watching an unknown service, reporting SERVICE_UNKNOWN", async () => {
    const grpc = createClient(
      Health,
      createGrpcTransport({ baseUrl: server.baseUrl, sessionManager }),
    );
    const abort = new AbortController();
    const stream = grpc
      .watch({ service: "grouppe.v1.NoSuchService" }, { signal: abort.signal })
      [Symbol.asyncIterator]();
    expect((await stream.next()).value?.status).toBe(ServingStatus.SERVICE_UNKNOWN);
    abort.abort();
  });

  it("turns NOT_SERVING at shutdown, then ends Watch with UNAVAILABLE and stops accepting calls", async () => {
    const grpc = createClient(
      Health,
      createGrpcTransport({ baseUrl: server.baseUrl, sessionManager }),
    );
    const connect = createClient(
      Health,
      createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
    );
    let started = 0;
    const watchers = [
      grpc.watch({ service: "" }),
      connect.watch({ service: EventService.typeName }),
    ].map(async (stream) => {
      const statuses: ServingStatus[] = [];
      try {
        for await (const message of stream) {
          statuses.push(message.status);
          if (statuses.length === 1) started++;
        }
        return { statuses, code: undefined };
      } catch (error) {
        return { statuses, code: ConnectError.from(error).code };
      }
    });
    await eventually(() => started === 2, {
      what: "both watchers' first message",
      timeoutMs: 20_000,
    });

    await server.close();
    const results = await Promise.all(watchers);
    for (const result of results) {
      expect(result).toEqual({
        statuses: [ServingStatus.SERVING, ServingStatus.NOT_SERVING],
        code: Code.Unavailable,
      });
    }
    const after = await connect.check({ service: "" }).catch((e: unknown) => ConnectError.from(e));
    expect((after as ConnectError).code).toBe(Code.Unavailable);
  });
});
