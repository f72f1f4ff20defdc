import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import {
  AuthService,
  CreateEventRequestSchema,
  CreateEventResponseSchema,
  EventService,
} from "@grouppe/api";
import { Health, HealthCheckResponse_ServingStatus } from "@grouppe/api/health";
import { createTestPki, type TestPki } from "@grouppe/testkit";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestServer } from "../test/test-server.js";
import {
  createGrouppeClient,
  type GrouppeClient,
  type GrouppeClientOptions,
} from "./create-grouppe-client.js";

const eventId = "0190a6f4-7c1e-7b8a-9c3d-2e4f5a6b7c8d";
const mebibyte = 1024 * 1024;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function clientFor(options: GrouppeClientOptions): GrouppeClient {
  const client = createGrouppeClient(options);
  cleanups.push(() => client.close());
  return client;
}

/** Health, GetCurrentUser (echoing the authorization header), ListEvents and CreateEvent. */
function routes(calls: { count: number }, listEventsSize = 0) {
  return (router: ConnectRouter) => {
    router.service(Health, {
      check() {
        calls.count++;
        return { status: HealthCheckResponse_ServingStatus.SERVING };
      },
    });
    router.service(AuthService, {
      getCurrentUser(_request, context) {
        calls.count++;
        return { user: { displayName: context.requestHeader.get("authorization") ?? "" } };
      },
    });
    router.service(EventService, {
      listEvents() {
        calls.count++;
        const description = "x".repeat(5_000);
        const count = Math.ceil(listEventsSize / description.length);
        return { events: Array.from({ length: count }, () => ({ id: eventId, description })) };
      },
      createEvent(request) {
        calls.count++;
        return { event: { id: eventId, title: request.event?.title } };
      },
    });
  };
}

async function startServer(listEventsSize = 0, tls?: TestPki) {
  const calls = { count: 0 };
  const server = await startTestServer(
    routes(calls, listEventsSize),
    tls && { ...tls.server, ca: tls.ca },
  );
  cleanups.push(() => server.stop());
  return { server, calls };
}

describe("createGrouppeClient", () => {
  describe("mTLS", () => {
    let pki: TestPki;
    beforeAll(async () => {
      pki = await createTestPki();
    });

    it("calls a server that requires a client certificate", async () => {
      const { server, calls } = await startServer(0, pki);
      const client = clientFor({
        addresses: [server.address],
        tls: { ca: pki.ca, cert: pki.client.cert, key: pki.client.key },
      });

      const { status } = await client.health.check({});

      expect(status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      expect(calls.count).toBe(1);
      expect(server.clientNames).toEqual(["reminders"]);
    });

    it("is turned away without a client certificate", async () => {
      const { server, calls } = await startServer(0, pki);
      const client = clientFor({
        addresses: [server.address],
        tls: { ca: pki.ca },
        retry: false,
      });

      const error = await client.health.check({}).catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).rawMessage).toMatch(/certificate required/);
      expect(calls.count).toBe(0);
    });

    it("does not trust a server certificate from an unknown CA", async () => {
      const { server, calls } = await startServer(0, pki);
      const client = clientFor({
        addresses: [server.address],
        tls: { cert: pki.client.cert, key: pki.client.key },
        retry: false,
      });

      await expect(client.health.check({})).rejects.toMatchObject({
        code: Code.Unavailable,
        rawMessage: expect.stringMatching(/self-signed certificate/),
      });
      expect(calls.count).toBe(0);
    });
  });

  describe("bearer token", () => {
    it("sends a fixed token", async () => {
      const { server } = await startServer();
      const client = clientFor({ addresses: [server.address], token: "secret-1" });

      const { user } = await client.auth.getCurrentUser({});

      expect(user?.displayName).toBe("Bearer secret-1");
    });

    it("asks a token provider once per call, and a call's own header wins", async () => {
      const { server } = await startServer();
      let issued = 0;
      const client = clientFor({
        addresses: [server.address],
        token: async () => `token-${++issued}`,
      });

      const first = await client.auth.getCurrentUser({});
      const second = await client.auth.getCurrentUser({});
      const own = await client.auth.getCurrentUser(
        {},
        { headers: { authorization: "Bearer someone-else" } },
      );

      expect(first.user?.displayName).toBe("Bearer token-1");
      expect(second.user?.displayName).toBe("Bearer token-2");
      expect(own.user?.displayName).toBe("Bearer someone-else");
      expect(issued).toBe(2);
    });

    it("sends no authorization when the provider has no token", async () => {
      const { server } = await startServer();
      const client = clientFor({ addresses: [server.address], token: () => undefined });

      const { user } = await client.auth.getCurrentUser({});

      expect(user?.displayName).toBe("");
    });
  });

  it("runs extra interceptors once per call, outside the retries", async () => {
    const stopped = await startTestServer(() => {});
    await stopped.stop();
    const { server } = await startServer();
    const seen: string[] = [];
    const record: Interceptor = (next) => async (req) => {
      seen.push(req.method.name);
      return next(req);
    };
    const client = clientFor({
      addresses: [stopped.address, server.address],
      interceptors: [record],
      retry: { initialBackoffMs: 5 },
    });

    await client.health.check({});

    expect(seen).toEqual(["Check"]);
  });

  describe("compression", () => {
    /** A bare HTTP/2 server that records the gRPC frames of CreateEvent and answers them. */
    async function startFrameRecorder() {
      const frames: { compressed: boolean; payload: Buffer; acceptEncoding: string }[] = [];
      const server = http2.createServer();
      server.on("stream", (stream, headers) => {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          const body = Buffer.concat(chunks);
          frames.push({
            compressed: body[0] === 1,
            payload: body.subarray(5, 5 + body.readUInt32BE(1)),
            acceptEncoding: String(headers["grpc-accept-encoding"]),
          });
          const reply = toBinary(
            CreateEventResponseSchema,
            create(CreateEventResponseSchema, { event: { id: eventId } }),
          );
          const frame = Buffer.alloc(5 + reply.length);
          frame.writeUInt32BE(reply.length, 1);
          frame.set(reply, 5);
          stream.respond(
            { ":status": 200, "content-type": "application/grpc+proto" },
            { waitForTrailers: true },
          );
          stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
          stream.end(frame);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const { port } = server.address() as AddressInfo;
      return { address: `http://127.0.0.1:${port}`, frames };
    }

    it("gzips requests over the threshold, sends small ones as they are, and accepts gzip", async () => {
      const recorder = await startFrameRecorder();
      const client = clientFor({ addresses: [recorder.address], compressMinBytes: 1024 });
      const large = { title: "Long", description: "A description. ".repeat(300) };

      await client.events.createEvent({ event: { title: "Short" } });
      await client.events.createEvent({ event: large });

      const [small, big] = recorder.frames;
      expect(small?.compressed).toBe(false);
      expect(
        fromBinary(CreateEventRequestSchema, small?.payload ?? Buffer.alloc(0)).event?.title,
      ).toBe("Short");
      expect(big?.compressed).toBe(true);
      const unzipped = gunzipSync(big?.payload ?? Buffer.alloc(0));
      expect(big?.payload.length).toBeLessThan(unzipped.length);
      expect(fromBinary(CreateEventRequestSchema, unzipped).event?.description).toBe(
        large.description,
      );
      expect(big?.acceptEncoding.split(",")).toContain("gzip");
    });
  });

  describe("message limits", () => {
    it("refuses a response over 4 MiB", async () => {
      const { server, calls } = await startServer(5 * mebibyte);
      const client = clientFor({ addresses: [server.address] });

      await expect(client.events.listEvents({})).rejects.toMatchObject({
        code: Code.ResourceExhausted,
      });
      expect(calls.count).toBe(1);
    });

    it("accepts a response just under 4 MiB", async () => {
      const { server } = await startServer(3 * mebibyte);
      const client = clientFor({ addresses: [server.address] });

      const { events } = await client.events.listEvents({});

      expect(events.length).toBe(Math.ceil((3 * mebibyte) / 5_000));
    });

    it("does not send a request over 4 MiB", async () => {
      const { server, calls } = await startServer();
      const client = clientFor({ addresses: [server.address] });

      await expect(
        client.events.createEvent({
          event: { title: "Huge", description: "x".repeat(5 * mebibyte) },
        }),
      ).rejects.toMatchObject({ code: Code.ResourceExhausted });
      expect(calls.count).toBe(0);
    });
  });

  describe("configuration", () => {
    it.each([
      [[], /at least one server address/],
      [["10.0.0.1:8080"], /not an http or https URL/],
      [["ftp://10.0.0.1"], /not an http or https URL/],
    ])("rejects the addresses %j", (addresses, message) => {
      expect(() => createGrouppeClient({ addresses })).toThrow(message);
    });

    it("rejects TLS settings for plain-text addresses", () => {
      expect(() =>
        createGrouppeClient({ addresses: ["http://10.0.0.1:8080"], tls: { ca: "x" } }),
      ).toThrow(/not https: http:\/\/10\.0\.0\.1:8080/);
    });
  });
});
