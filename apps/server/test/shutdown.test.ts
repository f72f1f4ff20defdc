import { rm } from "node:fs/promises";
import net from "node:net";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@grouppe/api/health";
import { eventually } from "@grouppe/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDataDir,
  type ServerProcess,
  startServerProcess,
  startTestServer,
} from "../src/testing/index.js";
import { GrpcJsHealthClient, startLatencyProxy } from "./support/transport-helpers.js";

let dataDir: string;
const started: ServerProcess[] = [];

beforeAll(async () => {
  // One data directory for the file: each test's process reopens the same embedded database.
  dataDir = await createTestDataDir("grouppe-shutdown-");
});

afterAll(async () => {
  for (const server of started)
    if (server.child.exitCode === null && server.child.signalCode === null)
      server.child.kill("SIGKILL");
  await rm(dataDir, { recursive: true, force: true });
});

/** `node dist/main.js`, as `npm start` runs it, on this file's data directory. */
async function startProcess(env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServerProcess(env, { dataDir });
  started.push(server);
  return server;
}

/** Waits for the process to exit, at most `ms`; resolves with how it exited, or "still running". */
async function exitWithin(server: ServerProcess, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    server.exited,
    new Promise<"still running">((resolve) => {
      timer = setTimeout(() => resolve("still running"), ms);
    }),
  ]);
  clearTimeout(timer);
  return result;
}

/** A Connect unary request over HTTP/1.1 whose body never arrives in full: a call held in flight. */
async function holdRequestOpen(port: number): Promise<{ closed: Promise<string> }> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let received = "";
  socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
  socket.on("error", () => undefined);
  socket.write(
    "POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
  );
  return { closed: new Promise((resolve) => socket.on("close", () => resolve(received))) };
}

// Each test starts a process (seconds on a loaded machine) and waits on it with generous bounds;
// the timeout stays above the sum of those waits.
describe("shutdown of the real process", { timeout: 240_000 }, () => {
  it("loses no call that started before SIGTERM and exits 0 within the grace period", async () => {
    const graceMs = 10_000;
    const server = await startProcess({ GROUPPE_SHUTDOWN_GRACE_MS: String(graceMs) });
    // Half the clients reach the server through a 40 ms each-way delay, so calls are still on
    // the wire when the signal comes; the rest talk to it directly.
    const proxy = await startLatencyProxy(server.port, 40);
    const viaProxy = `http://127.0.0.1:${proxy.port}`;
    const sessions = [server.url, viaProxy, server.url, viaProxy].map(
      (url) => new Http2SessionManager(url),
    );
    const grpcJs = [
      new GrpcJsHealthClient(`127.0.0.1:${server.port}`),
      new GrpcJsHealthClient(`127.0.0.1:${proxy.port}`),
    ];
    const grpcClient = (sessionManager: Http2SessionManager) =>
      createClient(
        Health,
        createGrpcTransport({ baseUrl: sessionManager.authority, sessionManager }),
      );
    const connectClient = (sessionManager: Http2SessionManager) =>
      createClient(
        Health,
        createConnectTransport({
          baseUrl: sessionManager.authority,
          httpVersion: "2",
          sessionManager,
        }),
      );
    const clients: { name: string; check: () => Promise<unknown> }[] = [
      {
        name: "gRPC (connect-node, h2c)",
        check: () => grpcClient(sessions[0] as Http2SessionManager).check({}),
      },
      {
        name: "gRPC (connect-node, h2c, delayed)",
        check: () => grpcClient(sessions[1] as Http2SessionManager).check({}),
      },
      {
        name: "Connect (connect-node, HTTP/2)",
        check: () => connectClient(sessions[2] as Http2SessionManager).check({}),
      },
      {
        name: "Connect (connect-node, HTTP/2, delayed)",
        check: () => connectClient(sessions[3] as Http2SessionManager).check({}),
      },
      {
        name: "Connect (connect-node, HTTP/1.1)",
        check: () =>
          createClient(
            Health,
            createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
          ).check({}),
      },
      {
        name: "gRPC-Web (connect-node, HTTP/1.1, delayed)",
        check: () =>
          createClient(
            Health,
            createGrpcWebTransport({ baseUrl: viaProxy, httpVersion: "1.1" }),
          ).check({}),
      },
      { name: "gRPC (grpc-js)", check: () => (grpcJs[0] as GrpcJsHealthClient).check("") },
      { name: "gRPC (grpc-js, delayed)", check: () => (grpcJs[1] as GrpcJsHealthClient).check("") },
    ];

    type Outcome = { client: string; startedAt: number; ok: boolean; error?: string };
    const outcomes: Outcome[] = [];
    let signalledAt = Number.POSITIVE_INFINITY;
    const loops = clients.flatMap(({ name, check }) =>
      Array.from({ length: 4 }, async () => {
        // Bounded: stops at the first failure (after the shutdown), the exit, or 20 000 calls.
        for (let i = 0; i < 20_000; i++) {
          const startedAt = performance.now();
          try {
            await check();
            outcomes.push({ client: name, startedAt, ok: true });
          } catch (error) {
            outcomes.push({
              client: name,
              startedAt,
              ok: false,
              error: ConnectError.from(error).message,
            });
            return;
          }
          if (server.child.exitCode !== null) return;
        }
      }),
    );
    await eventually(() => outcomes.length >= 300, {
      what: "300 calls before the signal",
      timeoutMs: 60_000,
    });
    signalledAt = performance.now();
    server.child.kill("SIGTERM");
    // The server keeps the grace period on its own clock and logs when it has to cut calls, so
    // that log line's absence is the proof; this wait only bounds a hang and is generous.
    const exit = await exitWithin(server, graceMs + 60_000);
    const exitedAfterMs = Math.round(performance.now() - signalledAt);
    await Promise.all(loops);
    for (const client of grpcJs) client.close();
    for (const session of sessions) session.abort();
    await proxy.close();

    expect(exit, `exit ${exitedAfterMs} ms after SIGTERM`).toEqual({ code: 0, signal: null });
    const beforeSignal = outcomes.filter((outcome) => outcome.startedAt < signalledAt);
    expect(beforeSignal.length).toBeGreaterThanOrEqual(300);
    expect(beforeSignal.filter((outcome) => !outcome.ok)).toEqual([]);
    for (const { name } of clients)
      expect(beforeSignal.some((outcome) => outcome.client === name)).toBe(true);
    expect(server.logs.map((line) => line.msg)).toEqual(
      expect.arrayContaining(["shutting down", "shut down"]),
    );
    expect(server.logs.map((line) => line.msg)).not.toContain(
      "grace period over; ending the calls still running",
    );
  });

  it("ends open streams with NOT_SERVING then UNAVAILABLE, without waiting out the grace period", async () => {
    const server = await startProcess({ GROUPPE_SHUTDOWN_GRACE_MS: "60000" });
    const sessionManager = new Http2SessionManager(server.url);
    const transports: Transport[] = [
      createGrpcTransport({ baseUrl: server.url, sessionManager }),
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
      createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1" }),
    ];
    let first = 0;
    const streams = transports.map(async (transport) => {
      const statuses: ServingStatus[] = [];
      try {
        for await (const message of createClient(Health, transport).watch({})) {
          statuses.push(message.status);
          if (statuses.length === 1) first++;
        }
        return { statuses, code: undefined as Code | undefined };
      } catch (error) {
        return { statuses, code: ConnectError.from(error).code };
      }
    });
    await eventually(() => first === transports.length, {
      what: "every stream's first message",
      timeoutMs: 20_000,
    });
    server.child.kill("SIGTERM");
    const exit = await exitWithin(server, 30_000);
    const results = await Promise.all(streams);
    sessionManager.abort();

    expect(exit).toEqual({ code: 0, signal: null });
    for (const result of results) {
      expect(result).toEqual({
        statuses: [ServingStatus.SERVING, ServingStatus.NOT_SERVING],
        code: Code.Unavailable,
      });
    }
  });

  it("cuts what is still running when the grace period is over, and still exits 0", async () => {
    const server = await startProcess({ GROUPPE_SHUTDOWN_GRACE_MS: "1000" });
    const held = await holdRequestOpen(server.port);
    server.child.kill("SIGTERM");
    const exit = await exitWithin(server, 30_000);
    expect(exit).toEqual({ code: 0, signal: null });
    await held.closed;
    expect(server.logs.map((line) => line.msg)).toContain(
      "grace period over; ending the calls still running",
    );
  });

  it("exits at once on a second signal", async () => {
    const server = await startProcess({ GROUPPE_SHUTDOWN_GRACE_MS: "120000" });
    const held = await holdRequestOpen(server.port);
    server.child.kill("SIGTERM");
    await eventually(() => server.logs.some((line) => line.msg === "shutting down"), {
      what: "the shutdown to begin",
      timeoutMs: 20_000,
    });
    server.child.kill("SIGINT");
    const exit = await exitWithin(server, 30_000);
    expect(exit).toEqual({ code: 1, signal: null });
    await held.closed;
  });
});

describe("an HTTP/1.1 connection during the drain", { timeout: 90_000 }, () => {
  it("gets its in-flight answer with Connection: close, then is closed, while /readyz says 503", async () => {
    const server = await startTestServer({ GROUPPE_SHUTDOWN_GRACE_MS: "10000" });
    const socket = net.connect(server.port, "127.0.0.1");
    await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
    const closed = new Promise((resolve) => socket.on("close", resolve));
    const body = '{"service":""}';
    const head = `POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;

    expect((await server.server.app.inject("/readyz")).statusCode).toBe(200);
    socket.write(head + body);
    await eventually(() => received.includes("SERVING"), {
      what: "the first answer",
      timeoutMs: 20_000,
    });
    expect(received).toMatch(/\r\nConnection: keep-alive\r\n/i);

    // The second call is in flight (its body half sent) when the shutdown begins.
    received = "";
    socket.write(head + body.slice(0, 5));
    const stopping = server.close();
    await eventually(() => server.logs.some((line) => line.includes('"shutting down"')), {
      what: "the shutdown to begin",
      timeoutMs: 20_000,
    });
    expect((await server.server.app.inject("/readyz")).statusCode).toBe(503);
    socket.write(body.slice(5));
    await closed;
    await stopping;
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(received).toMatch(/\r\nConnection: close\r\n/i);
    expect(received).toContain("SERVING");
  });
});
