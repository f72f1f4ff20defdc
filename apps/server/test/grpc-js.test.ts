import { randomUUID } from "node:crypto";
import {
  create,
  type DescMessage,
  type DescService,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { AuthService, EventService, EventState, RsvpStatus } from "@grouppe/api";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../src/testing/index.js";
import {
  createClientCertificate,
  createDevCa,
  createServerCertificate,
} from "../src/tls/dev-certificates.js";
import { eventInput } from "./support/event-input.js";

/** A grpc-js service definition built from a protobuf-es descriptor: no .proto loading. */
function definitionOf(service: DescService): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    // grpc-js hands over plain objects; `create` turns them (and nested inits) into messages.
    const serialize = (schema: DescMessage) => (value: unknown) =>
      Buffer.from(toBinary(schema, create(schema, value as MessageInitShape<DescMessage>)));
    const deserialize =
      (schema: DescMessage) =>
      (bytes: Buffer): unknown =>
        fromBinary(schema, bytes);
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream:
        method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream:
        method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: serialize(method.input),
      requestDeserialize: deserialize(method.input),
      responseSerialize: serialize(method.output),
      responseDeserialize: deserialize(method.output),
    };
  }
  return definition;
}

// biome-ignore lint/suspicious/noExplicitAny: grpc-js generic clients are untyped by design.
type GenericClient = grpc.Client & Record<string, any>;

function unary<T>(
  client: GenericClient,
  method: string,
  request: unknown,
  metadata = new grpc.Metadata(),
): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](request, metadata, (error: grpc.ServiceError | null, response: T) =>
      error ? reject(error) : resolve(response),
    );
  });
}

function bearer(token: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${token}`);
  return metadata;
}

let server: TestServer;
let credentials: { plain: grpc.ChannelCredentials; service: grpc.ChannelCredentials };
const clients: grpc.Client[] = [];

function client(service: DescService, creds: grpc.ChannelCredentials): GenericClient {
  const Constructor = grpc.makeGenericClientConstructor(definitionOf(service), service.name);
  const made = new Constructor(`localhost:${server.port}`, creds) as GenericClient;
  clients.push(made);
  return made;
}

beforeAll(async () => {
  const ca = await createDevCa();
  const serverCert = await createServerCertificate(ca);
  const serviceCert = await createClientCertificate(ca, "importer");
  server = await startTestServer(
    { GROUPPE_HEARTBEAT_MS: "200" },
    { tls: { cert: serverCert.cert, key: serverCert.key, clientCa: ca.cert } },
  );
  credentials = {
    plain: grpc.credentials.createSsl(Buffer.from(ca.cert)),
    service: grpc.credentials.createSsl(
      Buffer.from(ca.cert),
      Buffer.from(serviceCert.key),
      Buffer.from(serviceCert.cert),
    ),
  };
});

afterAll(async () => {
  for (const made of clients) made.close();
  await server?.close();
});

describe("@grpc/grpc-js, an independent gRPC implementation", () => {
  it("calls every EventService and AuthService RPC", async () => {
    const auth = client(AuthService, credentials.plain);
    const events = client(EventService, credentials.plain);
    const email = `grpcjs-${randomUUID()}@example.com`;
    const signedUp = await unary<{
      session: { accessToken: string; refreshToken: string; user: { id: string } };
    }>(auth, "signUp", {
      email,
      password: "correct horse",
      displayName: "Grace",
    });
    const organizerId = signedUp.session.user.id;
    const { session } = await unary<{ session: { accessToken: string; refreshToken: string } }>(
      auth,
      "logIn",
      {
        email,
        password: "correct horse",
      },
    );
    const grace = bearer(session.accessToken);
    expect(
      (await unary<{ user: { email: string } }>(auth, "getCurrentUser", {}, grace)).user.email,
    ).toBe(email);
    const refreshed = await unary<{ session: { refreshToken: string } }>(auth, "refreshToken", {
      refreshToken: session.refreshToken,
    });

    const { event } = await unary<{ event: { id: string; etag: string } }>(
      events,
      "createEvent",
      { event: eventInput({ capacity: 1 }) },
      grace,
    );
    expect(
      (await unary<{ event: { id: string } }>(events, "getEvent", { id: event.id })).event.id,
    ).toBe(event.id);
    const listed = await unary<{ events: { id: string }[] }>(events, "listEvents", { organizerId });
    expect(listed.events.map((e) => e.id)).toEqual([event.id]);
    const updated = await unary<{ event: { title: string } }>(
      events,
      "updateEvent",
      {
        event: { id: event.id, title: "Renamed over grpc-js", etag: event.etag },
        updateMask: { paths: ["title"] },
      },
      grace,
    );
    expect(updated.event.title).toBe("Renamed over grpc-js");

    const watch = events.watchEvent({ id: event.id }) as grpc.ClientReadableStream<{
      change: { case: string; value: { attendeeCount?: number } };
    }>;
    const changes: string[] = [];
    const sawAttendance = new Promise<void>((resolve, reject) => {
      watch.on("data", (message) => {
        changes.push(message.change.case);
        if (message.change.case === "attendance" && message.change.value.attendeeCount === 1)
          resolve();
      });
      watch.on("error", (error: grpc.ServiceError) => {
        if (error.code !== grpc.status.CANCELLED) reject(error);
      });
    });
    const feed = events.watchEvents({}) as grpc.ClientReadableStream<{ change: { case: string } }>;
    const feedErrors: grpc.ServiceError[] = [];
    feed.on("error", (error: grpc.ServiceError) => {
      if (error.code !== grpc.status.CANCELLED) feedErrors.push(error);
    });
    const feedFirst = new Promise<string>((resolve) =>
      feed.once("data", (message) => resolve(message.change.case)),
    );
    expect(await feedFirst).toBe("heartbeat");
    feed.cancel();
    expect(feedErrors).toEqual([]);

    const bob = bearer(
      (
        await unary<{ session: { accessToken: string } }>(auth, "signUp", {
          email: `bob-${randomUUID()}@example.com`,
          password: "correct horse",
          displayName: "Bob",
        })
      ).session.accessToken,
    );
    const joined = await unary<{ attendee: { status: number } }>(
      events,
      "joinEvent",
      { eventId: event.id },
      bob,
    );
    expect(joined.attendee.status).toBe(RsvpStatus.ATTENDING);
    await sawAttendance;
    expect(changes[0]).toBe("snapshot");
    watch.cancel();
    const attendees = await unary<{ attendees: { person: { displayName: string } }[] }>(
      events,
      "listAttendees",
      { eventId: event.id },
    );
    expect(attendees.attendees.map((a) => a.person.displayName)).toEqual(["Bob"]);
    expect(
      (
        await unary<{ event: { attendeeCount: number } }>(
          events,
          "leaveEvent",
          { eventId: event.id },
          bob,
        )
      ).event.attendeeCount,
    ).toBe(0);

    const importer = client(EventService, credentials.service);
    const imported = await new Promise<{ createdCount: number }>((resolve, reject) => {
      const call = importer.importEvents(
        (error: grpc.ServiceError | null, response: { createdCount: number }) =>
          error ? reject(error) : resolve(response),
      ) as grpc.ClientWritableStream<unknown>;
      call.write({
        key: randomUUID(),
        organizerId,
        event: eventInput({ title: "Imported over grpc-js" }),
      });
      call.end();
    });
    expect(imported.createdCount).toBe(1);

    const cancelled = await unary<{ event: { state: number } }>(
      events,
      "cancelEvent",
      { id: event.id, reason: "rain" },
      grace,
    );
    expect(cancelled.event.state).toBe(EventState.CANCELLED);
    await unary(events, "deleteEvent", { id: event.id }, grace);
    const gone = await unary(events, "getEvent", { id: event.id }).catch(
      (error: grpc.ServiceError) => error,
    );
    expect((gone as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
    await unary(auth, "logOut", { refreshToken: refreshed.session.refreshToken });
  });

  it("gets the canonical status codes with their details", async () => {
    const events = client(EventService, credentials.plain);
    const invalid = await unary(events, "listEvents", { pageSize: -1 }).catch(
      (error: grpc.ServiceError) => error,
    );
    expect((invalid as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((invalid as grpc.ServiceError).metadata.get("grpc-status-details-bin").length).toBe(1);
    const anonymous = await unary(events, "createEvent", { event: eventInput() }).catch(
      (error: grpc.ServiceError) => error,
    );
    expect((anonymous as grpc.ServiceError).code).toBe(grpc.status.UNAUTHENTICATED);
  });
});
