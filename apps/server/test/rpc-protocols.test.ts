import { randomUUID } from "node:crypto";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  AuthService,
  EventService,
  EventState,
  RsvpStatus,
  type WatchEventResponse,
} from "@grouppe/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../src/testing/index.js";
import { eventInput } from "./support/event-input.js";
import { allTransports } from "./support/transports.js";

let server: TestServer;
let transports: ReturnType<typeof allTransports>;

beforeAll(async () => {
  server = await startTestServer({ GROUPPE_RATE_LIMIT_AUTH: "10000", GROUPPE_HEARTBEAT_MS: "200" });
  transports = allTransports(server.baseUrl);
});

afterAll(async () => {
  transports?.close();
  await server?.close();
});

/** The next message of a stream that is not a heartbeat. */
async function nextChange(stream: AsyncIterator<WatchEventResponse>) {
  for (let i = 0; i < 100; i++) {
    const { value, done } = await stream.next();
    if (done) throw new Error("stream ended");
    if (value.change.case !== "heartbeat") return value.change;
  }
  throw new Error("only heartbeats");
}

async function everyRpc(transport: Transport) {
  const auth = createClient(AuthService, transport);
  const events = createClient(EventService, transport);
  const email = `ada-${randomUUID()}@example.com`;

  const signedUp = await auth.signUp({ email, password: "correct horse", displayName: "Ada" });
  expect(signedUp.session?.user?.email).toBe(email);
  const { session } = await auth.logIn({ email, password: "correct horse" });
  if (!session) throw new Error("no session");
  const ada = { headers: { authorization: `Bearer ${session.accessToken}` } };
  expect((await auth.getCurrentUser({}, ada)).user?.displayName).toBe("Ada");
  const refreshed = await auth.refreshToken({ refreshToken: session.refreshToken });
  expect(refreshed.session?.refreshToken).not.toBe(session.refreshToken);

  const requestId = randomUUID();
  const { event } = await events.createEvent(
    { event: eventInput({ capacity: 1 }), requestId },
    ada,
  );
  if (!event) throw new Error("no event");
  expect(event.organizer?.displayName).toBe("Ada");
  const retried = await events.createEvent({ event: eventInput({ capacity: 1 }), requestId }, ada);
  expect(retried.event?.id).toBe(event.id);
  expect((await events.getEvent({ id: event.id })).event?.title).toBe(event.title);
  const listed = await events.listEvents({ organizerId: session.user?.id ?? "" });
  expect(listed.events.map((e) => e.id)).toEqual([event.id]);

  const updated = await events.updateEvent(
    {
      event: { id: event.id, title: "Runes in practice", etag: event.etag },
      updateMask: { paths: ["title"] },
    },
    ada,
  );
  expect(updated.event?.title).toBe("Runes in practice");
  expect(updated.event?.etag).not.toBe(event.etag);

  const bobSignUp = await auth.signUp({
    email: `bob-${randomUUID()}@example.com`,
    password: "battery staple",
    displayName: "Bob",
  });
  const bob = { headers: { authorization: `Bearer ${bobSignUp.session?.accessToken}` } };

  const watchAbort = new AbortController();
  const watch = events
    .watchEvent({ id: event.id }, { signal: watchAbort.signal })
    [Symbol.asyncIterator]();
  const snapshot = await nextChange(watch);
  expect(snapshot.case).toBe("snapshot");

  const joined = await events.joinEvent({ eventId: event.id }, bob);
  expect(joined.attendee?.status).toBe(RsvpStatus.ATTENDING);
  expect(joined.event?.attendeeCount).toBe(1);
  const attendance = await nextChange(watch);
  expect(attendance.case === "attendance" && attendance.value.attendeeCount).toBe(1);

  const attendees = await events.listAttendees({ eventId: event.id });
  expect(attendees.attendees.map((a) => a.person?.displayName)).toEqual(["Bob"]);
  const left = await events.leaveEvent({ eventId: event.id }, bob);
  expect(left.event?.attendeeCount).toBe(0);
  const afterLeave = await nextChange(watch);
  expect(afterLeave.case === "attendance" && afterLeave.value.attendeeCount).toBe(0);

  const feedAbort = new AbortController();
  const feed = events.watchEvents({}, { signal: feedAbort.signal })[Symbol.asyncIterator]();
  // The feed sends nothing until something happens; a heartbeat proves the stream is open.
  for (
    let first = await feed.next();
    first.value?.change.case !== "heartbeat";
    first = await feed.next()
  ) {
    if (first.done) throw new Error("feed ended");
  }
  const other = await events.createEvent({ event: eventInput({ title: "Second" }) }, ada);
  let created: string | undefined;
  for (let i = 0; i < 50 && created === undefined; i++) {
    const { value } = await feed.next();
    if (value?.change.case === "created") created = value.change.value.id;
  }
  expect(created).toBe(other.event?.id);
  feedAbort.abort();

  const cancelled = await events.cancelEvent({ id: event.id, reason: "Speaker ill" }, ada);
  expect(cancelled.event?.state).toBe(EventState.CANCELLED);
  const cancelledChange = await nextChange(watch);
  expect(cancelledChange.case).toBe("cancelled");
  await events.deleteEvent({ id: event.id }, ada);
  const deleted = await nextChange(watch);
  expect(deleted.case).toBe("deleted");
  watchAbort.abort();
  const gone = await events.getEvent({ id: event.id }).catch((e: unknown) => ConnectError.from(e));
  expect(gone).toBeInstanceOf(ConnectError);
  expect((gone as ConnectError).code).toBe(Code.NotFound);

  const finalSession = refreshed.session;
  if (!finalSession) throw new Error("no session");
  await auth.logOut({ refreshToken: finalSession.refreshToken });
  const afterLogOut = await auth
    .refreshToken({ refreshToken: finalSession.refreshToken })
    .catch((e: unknown) => ConnectError.from(e));
  expect((afterLogOut as ConnectError).code).toBe(Code.Unauthenticated);
}

describe("every RPC over every protocol on one port", () => {
  it("serves them all", async () => {
    for (const { name, transport } of transports.transports) {
      await everyRpc(transport).catch((error: unknown) => {
        throw new Error(`${name}: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      });
    }
  });

  it("answers the same request identically in every protocol", async () => {
    const results = await Promise.all(
      transports.transports.map(({ transport }) =>
        createClient(EventService, transport)
          .getEvent({ id: randomUUID() })
          .then(
            () => "ok",
            (e: unknown) => Code[ConnectError.from(e).code],
          ),
      ),
    );
    expect(new Set(results)).toEqual(new Set(["NotFound"]));
  });

  it("rejects invalid input the same way in every protocol", async () => {
    for (const { name, transport } of transports.transports) {
      const error = await createClient(EventService, transport)
        .listEvents({ pageSize: -1 })
        .catch((e: unknown) => ConnectError.from(e));
      expect(error, name).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code, name).toBe(Code.InvalidArgument);
      expect((error as ConnectError).rawMessage, name).toContain("page_size");
    }
  });
});
