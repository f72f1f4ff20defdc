import { createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { EventService, type WatchEventResponse, type WatchEventsResponse } from "@grouppe/api";
import { createTestDatabase, nextMessage, postgresAvailable } from "@grouppe/testkit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ServerProcess,
  startServerProcess,
  startTestServer,
  type TestServer,
} from "../src/testing/index.js";
import { eventInput } from "./support/event-input.js";
import { signUp } from "./support/sign-up.js";

const available = await postgresAvailable();
const skip = "skip" in available ? available.skip : undefined;
if (skip) console.warn(`live-postgres: skipped: ${skip}`);

const next = <T>(stream: AsyncIterator<T>, what: string, timeoutMs?: number) =>
  nextMessage(stream, { what, timeoutMs });

/**
 * Reads until a message of `kind` arrives, returning what came before too. Each message gets
 * the whole bound: a shared, shrinking deadline once left the last wait 88 ms on a loaded
 * machine, where heartbeats arrive every 200 ms and the awaited change a while later.
 */
async function until<T extends { change: { case: string | undefined } }>(
  stream: AsyncIterator<T>,
  kind: string,
  what: string,
): Promise<{ found: T; before: T[] }> {
  const before: T[] = [];
  const started = performance.now();
  const boundMs = 60_000;
  while (performance.now() - started < boundMs) {
    const message = await next(stream, what, boundMs);
    if (message.change.case === kind) return { found: message, before };
    before.push(message);
  }
  const kinds = before.map((m) => m.change.case);
  throw new Error(
    `no ${what} within ${Math.round(performance.now() - started)} ms (got ${kinds.length}: ${kinds.slice(-20).join(", ")})`,
  );
}

/** A server as its own process (`node dist/main.js`) on the shared PostgreSQL database. */
function startOnDatabase(databaseUrl: string): Promise<ServerProcess> {
  return startServerProcess({
    DATABASE_URL: databaseUrl,
    GROUPPE_HEARTBEAT_MS: "200",
    GROUPPE_SHUTDOWN_GRACE_MS: "1000",
  });
}

describe.skipIf(skip !== undefined)("two server processes sharing one PostgreSQL database", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let serverA: ServerProcess | undefined;
  let serverB: ServerProcess | undefined;
  let sessionB: Http2SessionManager | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    serverA = await startOnDatabase(database.url);
    serverB = await startOnDatabase(database.url);
  }, 120_000);

  afterAll(async () => {
    sessionB?.abort();
    await Promise.all([serverA?.stop(), serverB?.stop()]);
    await database?.drop();
  }, 60_000);

  it("shows a watcher on B the JoinEvent made on A", async () => {
    if (!serverA || !serverB) throw new Error("servers did not start");
    const onA = createConnectTransport({ baseUrl: serverA.url, httpVersion: "1.1" });
    sessionB = new Http2SessionManager(serverB.url);
    const onB = createGrpcTransport({ baseUrl: serverB.url, sessionManager: sessionB });
    const ada = await signUp(onA, "Ada");
    const bob = await signUp(onA, "Bob");
    const eventsA = createClient(EventService, onA);
    const eventsB = createClient(EventService, onB);
    const closeStreams = new AbortController();

    const feed = eventsB.watchEvents({}, { signal: closeStreams.signal })[Symbol.asyncIterator]();
    expect((await next(feed, "feed heartbeat on B")).change.case).toBe("heartbeat");
    const { event } = await eventsA.createEvent({ event: eventInput({ capacity: 3 }) }, ada);
    if (!event) throw new Error("CreateEvent returned no event");
    const created = await until<WatchEventsResponse>(feed, "created", "creation on B's feed");
    expect(created.found.change.value).toMatchObject({ id: event.id });

    const watcher = eventsB
      .watchEvent({ id: event.id }, { signal: closeStreams.signal })
      [Symbol.asyncIterator]();
    const snapshot = await until<WatchEventResponse>(watcher, "snapshot", "snapshot on B");
    expect(snapshot.found.change.value).toMatchObject({ id: event.id, attendeeCount: 0 });

    const sent = performance.now();
    const joined = await eventsA.joinEvent({ eventId: event.id }, bob);
    const answered = performance.now();
    const attendance = await until<WatchEventResponse>(watcher, "attendance", "attendance on B");
    const seenOnB = performance.now();
    expect(attendance.found.change.value).toMatchObject({
      eventId: event.id,
      attendeeCount: 1,
      etag: joined.event?.etag,
    });
    console.info(
      `JoinEvent on A -> attendance on B's watcher: ${(seenOnB - sent).toFixed(1)} ms after the call was sent, ` +
        `${(seenOnB - answered).toFixed(1)} ms after A answered`,
    );
    closeStreams.abort();
  }, 300_000);
});

describe.skipIf(skip !== undefined)("losing the LISTEN connection mid-stream", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: TestServer | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    server = await startTestServer({ DATABASE_URL: database.url, GROUPPE_HEARTBEAT_MS: "200" });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await database?.drop();
  }, 60_000);

  async function terminateListeners(): Promise<number> {
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ terminated: boolean }>(
        `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'grouppe-listener' AND pid <> pg_backend_pid()`,
      );
      return rows.filter((row) => row.terminated).length;
    } finally {
      await admin.end();
    }
  }

  it("sends every watcher a fresh snapshot (and the feed a resync), then keeps streaming", async () => {
    if (!server) throw new Error("server did not start");
    const transport = createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" });
    const events = createClient(EventService, transport);
    const [ada, bob, carol, dave] = await Promise.all(
      ["Ada", "Bob", "Carol", "Dave"].map((n) => signUp(transport, n)),
    );
    const closeStreams = new AbortController();
    const { event } = await events.createEvent({ event: eventInput({ capacity: 10 }) }, ada);
    if (!event) throw new Error("CreateEvent returned no event");

    const watcher = events
      .watchEvent({ id: event.id }, { signal: closeStreams.signal })
      [Symbol.asyncIterator]();
    const feed = events.watchEvents({}, { signal: closeStreams.signal })[Symbol.asyncIterator]();
    await until<WatchEventResponse>(watcher, "snapshot", "first snapshot");
    expect((await next(feed, "feed heartbeat")).change.case).toBe("heartbeat");
    await events.joinEvent({ eventId: event.id }, bob);
    const before = await until<WatchEventResponse>(
      watcher,
      "attendance",
      "attendance before the drop",
    );
    expect(before.found.change.value).toMatchObject({ attendeeCount: 1 });

    expect(await terminateListeners()).toBe(1);
    // Most likely made while the listener is away, so its notice is lost: the snapshot must show it.
    await events.joinEvent({ eventId: event.id }, carol);

    const fresh = await until<WatchEventResponse>(
      watcher,
      "snapshot",
      "snapshot after the reconnect",
    );
    let attendeeCount =
      fresh.found.change.case === "snapshot" ? fresh.found.change.value.attendeeCount : -1;
    for (let i = 0; i < 50 && attendeeCount < 2; i++) {
      const message = await next(watcher, "Carol's RSVP");
      if (message.change.case === "attendance" || message.change.case === "snapshot") {
        attendeeCount = message.change.value.attendeeCount;
      }
    }
    expect(attendeeCount).toBe(2);
    await until<WatchEventsResponse>(feed, "resync", "feed resync after the reconnect");

    const joined = await events.joinEvent({ eventId: event.id }, dave);
    const after = await until<WatchEventResponse>(
      watcher,
      "attendance",
      "attendance after the reconnect",
    );
    expect(after.found.change.value).toMatchObject({ attendeeCount: 3, etag: joined.event?.etag });
    const updated = await until<WatchEventsResponse>(
      feed,
      "updated",
      "feed update after the reconnect",
    );
    expect(updated.found.change.value).toMatchObject({ id: event.id });
    expect(server.logs.some((line) => line.includes("change listener reconnected"))).toBe(true);
    closeStreams.abort();
  }, 300_000);
});
