import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { EventService, type WatchEventResponse } from "@grouppe/api";
import { nextMessage } from "@grouppe/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../src/testing/index.js";
import { eventInput } from "./support/event-input.js";
import { signUp } from "./support/sign-up.js";

let server: TestServer;
let grpcSession: Http2SessionManager;
let protocols: { name: string; transport: Transport }[];

beforeAll(async () => {
  server = await startTestServer({ GROUPPE_HEARTBEAT_MS: "200" });
  grpcSession = new Http2SessionManager(server.baseUrl);
  protocols = [
    {
      name: "gRPC (h2c)",
      transport: createGrpcTransport({ baseUrl: server.baseUrl, sessionManager: grpcSession }),
    },
    {
      name: "gRPC-Web (HTTP/1.1)",
      transport: createGrpcWebTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
    },
    {
      name: "Connect JSON (HTTP/1.1)",
      transport: createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
    },
  ];
});

afterAll(async () => {
  grpcSession?.abort();
  await server?.close();
});

/** The next message that is not a heartbeat, failing clearly instead of hanging. */
async function nextChange(
  stream: AsyncIterator<WatchEventResponse>,
  what: string,
): Promise<WatchEventResponse["change"]> {
  for (;;) {
    const { change } = await nextMessage(stream, { what });
    if (change.case !== "heartbeat") return change;
  }
}

describe("WatchEvent over every protocol on one port", () => {
  it("delivers the same JoinEvent to gRPC, gRPC-Web and Connect watchers, and ends them on shutdown", async () => {
    const [grpc] = protocols;
    if (!grpc) throw new Error("no protocols");
    const events = createClient(EventService, grpc.transport);
    const ada = await signUp(grpc.transport, "Ada");
    const bob = await signUp(grpc.transport, "Bob");
    const { event } = await events.createEvent({ event: eventInput({ capacity: 5 }) }, ada);
    if (!event) throw new Error("CreateEvent returned no event");

    const watchers = protocols.map(({ name, transport }) => ({
      name,
      stream: createClient(EventService, transport)
        .watchEvent({ id: event.id })
        [Symbol.asyncIterator](),
    }));
    for (const { name, stream } of watchers) {
      const snapshot = await nextChange(stream, `${name} snapshot`);
      expect(snapshot.case, name).toBe("snapshot");
      expect(snapshot.value, name).toMatchObject({
        id: event.id,
        etag: event.etag,
        attendeeCount: 0,
      });
    }

    const joined = await events.joinEvent({ eventId: event.id }, bob);
    for (const { name, stream } of watchers) {
      const change = await nextChange(stream, `${name} attendance`);
      expect(change, name).toMatchObject({
        case: "attendance",
        value: { eventId: event.id, attendeeCount: 1, waitlistCount: 0, etag: joined.event?.etag },
      });
    }

    await server.server.close();
    for (const { name, stream } of watchers) {
      const ended = await nextChange(stream, `${name} shutdown`).then(
        (change) => new Error(`${name} got ${change.case} instead of UNAVAILABLE`),
        (error: unknown) => ConnectError.from(error),
      );
      expect(ended, name).toBeInstanceOf(ConnectError);
      expect((ended as ConnectError).code, name).toBe(Code.Unavailable);
      expect((ended as ConnectError).rawMessage, name).toBe("server is shutting down");
    }
  });
});
