import { Writable } from "node:stream";
import {
  type CallOptions,
  type Client,
  Code,
  ConnectError,
  createClient,
  createRouterTransport,
  type Interceptor,
} from "@connectrpc/connect";
import { EventService, type WatchEventResponse, type WatchEventsResponse } from "@grouppe/api";
import { eventually, nextMessage } from "@grouppe/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../config.js";
import { callerKey, peerKey } from "../rpc/context.js";
import { cacheEventReads } from "../store/cached-event-store.js";
import {
  createStores,
  type Db,
  type EventStore,
  migrate,
  openPgliteDb,
  type Stores,
} from "../store/index.js";
import type { EventDetails } from "../store/records.js";
import { createLive, type Live } from "./index.js";

const liveConfig: Config["live"] = {
  heartbeatMs: 60_000,
  maxWatchersPerUser: 20,
  maxWatchers: 1_000,
  queueLimit: 64,
};

/** Signs callers in from test headers, standing in for the authentication interceptor. */
const testCaller: Interceptor = (next) => (req) => {
  const user = req.header.get("x-test-user");
  if (user) req.contextValues.set(callerKey, { kind: "user", userId: user });
  req.contextValues.set(peerKey, {
    ip: req.header.get("x-test-ip") ?? "127.0.0.1",
    requestId: "test",
  });
  return next(req);
};

let db: Db;
let stores: Stores;
let organizerId: string;
let attendeeIds: string[];

beforeAll(async () => {
  db = await openPgliteDb("memory://");
  await migrate(db);
  stores = createStores(db);
  const organizer = await stores.users.create({
    email: "org@example.com",
    displayName: "Org",
    passwordHash: "x",
  });
  organizerId = organizer.id;
  attendeeIds = [];
  for (let i = 0; i < 5; i++) {
    const user = await stores.users.create({
      email: `a${i}@example.com`,
      displayName: `A${i}`,
      passwordHash: "x",
    });
    attendeeIds.push(user.id);
  }
});

afterAll(async () => {
  await db?.close();
});

function details(overrides: Partial<EventDetails> = {}): EventDetails {
  const startsAt = new Date(Date.now() + 7 * 86_400_000);
  return {
    title: "Live test",
    description: "",
    startsAt,
    endsAt: new Date(startsAt.getTime() + 3_600_000),
    timeZone: "UTC",
    location: { kind: "address", address: "Somewhere 1" },
    capacity: 2,
    ...overrides,
  };
}

interface Harness {
  live: Live;
  client: Client<typeof EventService>;
  shutdown: AbortController;
  logLines: string[];
  /** Aborts when the test is done: every stream it opened is cancelled, as by clients leaving. */
  clientsGone: AbortSignal;
  /** Cancels every stream this harness opened. */
  cancelAll(): void;
  close(): Promise<void>;
}

async function startLive(
  options: {
    config?: Partial<Config["live"]>;
    events?: EventStore;
    snapshots?: Pick<EventStore, "get">;
  } = {},
): Promise<Harness> {
  const logLines: string[] = [];
  const logger = pino(
    { level: "debug" },
    new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );
  const shutdown = new AbortController();
  const live = await createLive({
    db,
    events: options.events ?? stores.events,
    snapshots: options.snapshots ?? options.events ?? stores.events,
    config: { ...liveConfig, ...options.config },
    shutdown: shutdown.signal,
    logger,
  });
  const transport = createRouterTransport(
    (router) =>
      router.service(EventService, { watchEvent: live.watchEvent, watchEvents: live.watchEvents }),
    { router: { interceptors: [testCaller] } },
  );
  const clients = new AbortController();
  return {
    live,
    client: createClient(EventService, transport),
    clientsGone: clients.signal,
    shutdown,
    logLines,
    cancelAll: () => clients.abort(),
    close: () => {
      clients.abort();
      return live.close();
    },
  };
}

function withCancel(harness: Harness, options: CallOptions): CallOptions {
  const signals = options.signal ? [harness.clientsGone, options.signal] : [harness.clientsGone];
  return { ...options, signal: AbortSignal.any(signals) };
}

const next = <T>(iterator: AsyncIterator<T>, what: string) => nextMessage(iterator, { what });

/** The error a stream ends with, failing clearly when it yields or hangs instead. */
async function failure<T>(iterator: AsyncIterator<T>, what: string): Promise<ConnectError> {
  try {
    const message = await next(iterator, what);
    throw new Error(`expected ${what}, got a message: ${JSON.stringify(message)}`);
  } catch (error) {
    if (error instanceof ConnectError) return error;
    throw error;
  }
}

function watch(
  harness: Harness,
  id: string,
  options: CallOptions = {},
): AsyncIterator<WatchEventResponse> {
  return harness.client.watchEvent({ id }, withCancel(harness, options))[Symbol.asyncIterator]();
}

function watchAll(harness: Harness, options: CallOptions = {}): AsyncIterator<WatchEventsResponse> {
  return harness.client.watchEvents({}, withCancel(harness, options))[Symbol.asyncIterator]();
}

/** The test store, counting the events it reads. */
function countingReads(): { counted: EventStore; reads: () => number } {
  let count = 0;
  const counted: EventStore = {
    ...stores.events,
    get: (id, viewerId) => {
      count++;
      return stores.events.get(id, viewerId);
    },
  };
  return { counted, reads: () => count };
}

describe("WatchEvent", () => {
  it("sends a snapshot, then each change as it commits, and ends after the deletion", async () => {
    const harness = await startLive();
    try {
      const { event } = await stores.events.create({
        organizerId,
        details: details({ capacity: 1 }),
      });
      const stream = watch(harness, event.id);
      const snapshot = await next(stream, "snapshot");
      expect(snapshot.change.case).toBe("snapshot");
      expect(snapshot.change.value).toMatchObject({
        id: event.id,
        title: "Live test",
        attendeeCount: 0,
        etag: "v1",
      });

      await stores.events.join(event.id, attendeeIds[0] as string);
      const attendance = await next(stream, "attendance");
      expect(attendance.change).toMatchObject({
        case: "attendance",
        value: { eventId: event.id, attendeeCount: 1, waitlistCount: 0, etag: "v2" },
      });

      await stores.events.join(event.id, attendeeIds[1] as string);
      expect((await next(stream, "waitlist")).change).toMatchObject({
        case: "attendance",
        value: { attendeeCount: 1, waitlistCount: 1, etag: "v3" },
      });

      await stores.events.update(event.id, { title: "Renamed", capacity: 5 });
      const updated = await next(stream, "update");
      expect(updated.change.case).toBe("updated");
      expect(updated.change.value).toMatchObject({
        title: "Renamed",
        capacity: 5,
        attendeeCount: 2,
        waitlistCount: 0,
      });

      await stores.events.cancel(event.id, "rain");
      const cancelled = await next(stream, "cancellation");
      expect(cancelled.change.case).toBe("cancelled");
      expect(cancelled.change.value).toMatchObject({ cancelReason: "rain" });

      await stores.events.delete(event.id);
      expect((await next(stream, "deletion")).change).toMatchObject({
        case: "deleted",
        value: { eventId: event.id },
      });
      await expect(stream.next()).resolves.toMatchObject({ done: true });
      await eventually(() => harness.live.watcherCount() === 0, { what: "releasing the watcher" });
    } finally {
      await harness.close();
    }
  });

  it("fails with NOT_FOUND for an unknown event and INVALID_ARGUMENT for a malformed id", async () => {
    const harness = await startLive();
    try {
      const missing = await failure(
        watch(harness, "00000000-0000-4000-8000-000000000000"),
        "NOT_FOUND",
      );
      expect(missing.code).toBe(Code.NotFound);
      expect(missing.rawMessage).toBe("event not found");
      const malformed = await failure(watch(harness, "not-a-uuid"), "INVALID_ARGUMENT");
      expect(malformed.code).toBe(Code.InvalidArgument);
      expect(harness.live.watcherCount()).toBe(0);
    } finally {
      await harness.close();
    }
  });

  it("skips changes its snapshot already shows, and ignores malformed notices", async () => {
    const harness = await startLive();
    try {
      const { event } = await stores.events.create({ organizerId, details: details() });
      await stores.events.join(event.id, attendeeIds[0] as string);
      const stream = watch(harness, event.id);
      expect((await next(stream, "snapshot")).change.value).toMatchObject({
        etag: "v2",
        attendeeCount: 1,
      });
      // A late notice for a version the snapshot shows, and two that are not notices at all.
      await db.query("SELECT pg_notify('grouppe_changes', $1)", [
        JSON.stringify({ e: event.id, v: 2, k: "updated" }),
      ]);
      await db.query("SELECT pg_notify('grouppe_changes', 'not json')");
      await db.query("SELECT pg_notify('grouppe_changes', $1)", [
        JSON.stringify({ e: event.id, v: -1, k: "zap" }),
      ]);
      await stores.events.join(event.id, attendeeIds[1] as string);
      expect(await next(stream, "attendance")).toMatchObject({
        change: { case: "attendance", value: { attendeeCount: 2, etag: "v3" } },
      });
      const malformed = harness.logLines.filter((line) =>
        line.includes("ignoring malformed change notice"),
      );
      expect(malformed).toHaveLength(2);
    } finally {
      await harness.close();
    }
  });

  it("reads each change once for all of its watchers", async () => {
    const { counted, reads } = countingReads();
    const harness = await startLive({ events: counted, config: { maxWatchersPerUser: 100 } });
    try {
      const { event } = await stores.events.create({
        organizerId,
        details: details({ capacity: 10 }),
      });
      const streams = Array.from({ length: 50 }, () => watch(harness, event.id));
      await Promise.all(streams.map((stream) => next(stream, "snapshot")));
      const readsForSnapshots = reads();
      expect(readsForSnapshots).toBe(50);
      for (const userId of attendeeIds.slice(0, 3)) await stores.events.join(event.id, userId);
      for (const stream of streams) {
        // Quick changes may arrive conflated; every watcher ends on the latest count.
        let latest = await next(stream, "attendance");
        while (latest.change.case === "attendance" && latest.change.value.attendeeCount < 3) {
          latest = await next(stream, "attendance");
        }
        expect(latest.change).toMatchObject({ case: "attendance", value: { attendeeCount: 3 } });
      }
      // Three changes, each read at most once, whatever the number of watchers.
      expect(reads() - readsForSnapshots).toBeGreaterThanOrEqual(1);
      expect(reads() - readsForSnapshots).toBeLessThanOrEqual(3);

      // A notice older than what was published is dropped without a read.
      const readsBefore = reads();
      await db.query("SELECT pg_notify('grouppe_changes', $1)", [
        JSON.stringify({ e: event.id, v: 2, k: "updated" }),
      ]);
      await stores.events.join(event.id, attendeeIds[3] as string);
      for (const stream of streams) {
        expect((await next(stream, "fourth RSVP")).change).toMatchObject({
          case: "attendance",
          value: { attendeeCount: 4 },
        });
      }
      expect(reads() - readsBefore).toBe(1);
    } finally {
      await harness.close();
    }
  });

  it("takes snapshots from the read cache, and a change the cached copy misses still arrives", async () => {
    const { counted, reads } = countingReads();
    const cache = await cacheEventReads(counted, db);
    const harness = await startLive({ snapshots: cache, config: { maxWatchersPerUser: 100 } });
    try {
      const { event } = await stores.events.create({
        organizerId,
        details: details({ capacity: 10 }),
      });
      const first = watch(harness, event.id);
      await next(first, "first snapshot");
      const others = Array.from({ length: 20 }, () => watch(harness, event.id));
      await Promise.all(others.map((stream) => next(stream, "snapshot")));
      expect(reads(), "database reads for 21 snapshots of one unchanged event").toBe(1);

      // A watcher that opens while an RSVP commits, at every point of the notice's way to the
      // cache and the change feed: whatever its snapshot shows, it ends on the new count.
      for (const [index, userId] of attendeeIds.slice(0, 4).entries()) {
        const joining = stores.events.join(event.id, userId);
        for (let turn = 0; turn < index * 2; turn++) await new Promise(setImmediate);
        const late = watch(harness, event.id);
        await joining;
        let count = -1;
        while (count < index + 1) {
          const message = await next(late, `RSVP ${index + 1} on a watcher opened during it`);
          const { change } = message;
          if (change.case === "snapshot" || change.case === "attendance") {
            count = change.value.attendeeCount;
          }
        }
        expect(count).toBe(index + 1);
      }
    } finally {
      await harness.close();
      await cache.close();
    }
  });

  it("sends a whole event when a read shows more than its notices announced", async () => {
    const harness = await startLive();
    try {
      const { event } = await stores.events.create({ organizerId, details: details() });
      const stream = watch(harness, event.id);
      expect((await next(stream, "snapshot")).change.value).toMatchObject({ etag: "v1" });
      // A commit whose own notice has not arrived yet, then an attendance notice for it.
      await db.query("UPDATE events SET title = 'Sneaky', version = version + 1 WHERE id = $1", [
        event.id,
      ]);
      await db.query("SELECT pg_notify('grouppe_changes', $1)", [
        JSON.stringify({ e: event.id, v: 1, k: "attendance" }),
      ]);
      const change = await next(stream, "whole event");
      expect(change.change.case).toBe("updated");
      expect(change.change.value).toMatchObject({ title: "Sneaky", etag: "v2" });
    } finally {
      await harness.close();
    }
  });

  it("ends the watchers of an event whose change cannot be read, and tells the feed to reload", async () => {
    let failing = false;
    const flaky: EventStore = {
      ...stores.events,
      get: async (id, viewerId) => {
        if (failing) throw new Error("database unreachable");
        return stores.events.get(id, viewerId);
      },
    };
    const harness = await startLive({ events: flaky });
    try {
      const { event } = await stores.events.create({ organizerId, details: details() });
      const stream = watch(harness, event.id);
      const feed = watchAll(harness);
      await next(stream, "snapshot");
      await next(feed, "feed heartbeat");
      failing = true;
      await stores.events.join(event.id, attendeeIds[0] as string);
      const ended = await failure(stream, "interruption");
      expect(ended.code).toBe(Code.Unavailable);
      expect(ended.rawMessage).toBe("live updates interrupted; watch again");
      expect((await next(feed, "resync")).change.case).toBe("resync");
      expect(harness.logLines.some((line) => line.includes("cannot read changed event"))).toBe(
        true,
      );
      failing = false;
      const again = watch(harness, event.id);
      expect((await next(again, "snapshot")).change.value).toMatchObject({ attendeeCount: 1 });
    } finally {
      await harness.close();
    }
  });

  it("cuts off a watcher that stops reading, with RESOURCE_EXHAUSTED, and frees its slot", async () => {
    const harness = await startLive({ config: { queueLimit: 4, heartbeatMs: 100 } });
    try {
      const { event } = await stores.events.create({ organizerId, details: details() });
      const slow = watch(harness, event.id);
      const reader = watch(harness, event.id);
      await next(slow, "snapshot");
      await next(reader, "snapshot");
      // Details changes are never conflated, so each one queues for the watcher that does not read.
      for (let i = 1; i <= 20; i++) {
        await stores.events.update(event.id, { title: `Title ${i}` });
        const seen = await next(reader, `update ${i}`);
        expect(seen.change.value).toMatchObject({ title: `Title ${i}` });
      }
      await eventually(() => harness.live.watcherCount() === 1, {
        what: "freeing the cut watcher's slot",
      });
      const received: string[] = [];
      const cut = await (async () => {
        for (let i = 0; i < 30; i++) {
          try {
            const message = await next(slow, "backlog");
            received.push(message.change.case ?? "");
          } catch (error) {
            if (error instanceof ConnectError) return error;
            throw error;
          }
        }
        throw new Error(`never cut off; received ${received.join(", ")}`);
      })();
      expect(cut.code).toBe(Code.ResourceExhausted);
      expect(cut.rawMessage).toBe("watcher fell behind");
      expect(received.length).toBeLessThan(20);
    } finally {
      await harness.close();
    }
  });

  it("sends heartbeats while nothing changes", async () => {
    const harness = await startLive({ config: { heartbeatMs: 100 } });
    try {
      const { event } = await stores.events.create({ organizerId, details: details() });
      const stream = watch(harness, event.id);
      expect((await next(stream, "snapshot")).change.case).toBe("snapshot");
      const beat = await next(stream, "heartbeat");
      expect(beat.change.case).toBe("heartbeat");
      expect(beat.change.case === "heartbeat" && beat.change.value.time?.seconds).toBeGreaterThan(
        0n,
      );
      expect((await next(stream, "second heartbeat")).change.case).toBe("heartbeat");
    } finally {
      await harness.close();
    }
  });
});

describe("watcher limits", () => {
  it("caps watchers per caller and per process, and frees a slot the moment a client leaves", async () => {
    const harness = await startLive({ config: { maxWatchersPerUser: 2, maxWatchers: 3 } });
    try {
      const { event } = await stores.events.create({ organizerId, details: details() });
      const alice = { headers: { "x-test-user": attendeeIds[0] as string } };
      const bob = { headers: { "x-test-user": attendeeIds[1] as string } };
      const leaving = new AbortController();
      const first = watch(harness, event.id, { ...alice, signal: leaving.signal });
      const second = watch(harness, event.id, alice);
      await next(first, "snapshot");
      await next(second, "snapshot");
      const third = await failure(watch(harness, event.id, alice), "per-caller limit");
      expect(third.code).toBe(Code.ResourceExhausted);

      const feed = watchAll(harness, bob);
      expect((await next(feed, "feed heartbeat")).change.case).toBe("heartbeat");
      expect(harness.live.watcherCount()).toBe(3);
      const anonymous = await failure(
        watch(harness, event.id, { headers: { "x-test-ip": "10.0.0.9" } }),
        "process limit",
      );
      expect(anonymous.code).toBe(Code.ResourceExhausted);

      leaving.abort();
      await eventually(() => harness.live.watcherCount() === 2, {
        what: "releasing the cancelled watcher",
      });
      const again = watch(harness, event.id, alice);
      expect((await next(again, "snapshot")).change.case).toBe("snapshot");
      harness.cancelAll();
      await eventually(() => harness.live.watcherCount() === 0, {
        what: "releasing every watcher",
      });
    } finally {
      await harness.close();
    }
  });

  it("counts anonymous callers by client IP", async () => {
    const harness = await startLive({ config: { maxWatchersPerUser: 1 } });
    try {
      const first = watchAll(harness, { headers: { "x-test-ip": "10.0.0.1" } });
      await next(first, "feed heartbeat");
      const sameIp = await failure(
        watchAll(harness, { headers: { "x-test-ip": "10.0.0.1" } }),
        "per-IP limit",
      );
      expect(sameIp.code).toBe(Code.ResourceExhausted);
      const otherIp = watchAll(harness, { headers: { "x-test-ip": "10.0.0.2" } });
      expect((await next(otherIp, "feed heartbeat")).change.case).toBe("heartbeat");
    } finally {
      await harness.close();
    }
  });
});

describe("WatchEvents", () => {
  it("streams creations, changes, cancellations and deletions of all events", async () => {
    const harness = await startLive();
    try {
      const feed = watchAll(harness);
      expect((await next(feed, "first heartbeat")).change.case).toBe("heartbeat");
      const { event } = await stores.events.create({
        organizerId,
        details: details({ title: "Feed" }),
      });
      expect((await next(feed, "creation")).change).toMatchObject({
        case: "created",
        value: { id: event.id, title: "Feed" },
      });
      await stores.events.join(event.id, attendeeIds[0] as string);
      expect((await next(feed, "attendance")).change).toMatchObject({
        case: "updated",
        value: { id: event.id, attendeeCount: 1 },
      });
      await stores.events.update(event.id, { title: "Feed 2" });
      expect((await next(feed, "update")).change).toMatchObject({
        case: "updated",
        value: { title: "Feed 2" },
      });
      await stores.events.cancel(event.id, "sorry");
      expect((await next(feed, "cancellation")).change).toMatchObject({
        case: "cancelled",
        value: { id: event.id },
      });
      await stores.events.delete(event.id);
      expect((await next(feed, "deletion")).change).toMatchObject({
        case: "deleted",
        value: { eventId: event.id },
      });
    } finally {
      await harness.close();
    }
  });
});

describe("shutdown", () => {
  it("ends every stream with UNAVAILABLE and refuses new ones", async () => {
    const harness = await startLive();
    try {
      const { event } = await stores.events.create({ organizerId, details: details() });
      const stream = watch(harness, event.id);
      const feed = watchAll(harness);
      await next(stream, "snapshot");
      await next(feed, "feed heartbeat");
      harness.shutdown.abort();
      for (const ended of [await failure(stream, "shutdown"), await failure(feed, "shutdown")]) {
        expect(ended.code).toBe(Code.Unavailable);
        expect(ended.rawMessage).toBe("server is shutting down");
      }
      expect((await failure(watch(harness, event.id), "refusal")).code).toBe(Code.Unavailable);
      await eventually(() => harness.live.watcherCount() === 0, {
        what: "releasing every watcher",
      });
    } finally {
      await harness.close();
    }
  });

  it("close() ends streams too, so nothing waits on a feed that stopped", async () => {
    const harness = await startLive();
    const feed = watchAll(harness);
    await next(feed, "feed heartbeat");
    await harness.live.close();
    expect((await failure(feed, "close")).code).toBe(Code.Unavailable);
    await harness.close();
  });
});
