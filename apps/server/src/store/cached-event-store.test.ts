import { eventually } from "@grouppe/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheEventReads } from "./cached-event-store.js";
import { createStores } from "./create-stores.js";
import type { Db } from "./db.js";
import { migrate } from "./migrate.js";
import { openPgliteDb } from "./pglite-db.js";
import type { EventDetails, EventRecord } from "./records.js";
import type { EventStore, Stores } from "./stores.js";

let db: Db;
let stores: Stores;
let organizerId: string;

beforeAll(async () => {
  db = await openPgliteDb("memory://");
  await migrate(db);
  stores = createStores(db);
  organizerId = (
    await stores.users.create({ email: "cache@example.com", displayName: "C", passwordHash: "x" })
  ).id;
});

afterAll(async () => {
  await db?.close();
});

function details(title: string): EventDetails {
  const startsAt = new Date(Date.now() + 86_400_000);
  return {
    title,
    description: "",
    startsAt,
    endsAt: new Date(startsAt.getTime() + 3_600_000),
    timeZone: "UTC",
    location: { kind: "address", address: "Somewhere 1" },
    capacity: 5,
  };
}

/** The real store, counting reads, with a gate that can hold a read until released. */
function countingStore(inner: EventStore) {
  let gate: Promise<void> | undefined;
  const counter = {
    reads: 0,
    hold(): () => void {
      let release = () => {};
      gate = new Promise((resolve) => {
        release = () => {
          gate = undefined;
          resolve();
        };
      });
      return release;
    },
  };
  const store: EventStore = {
    ...inner,
    async get(id, viewerId) {
      counter.reads++;
      const record = await inner.get(id, viewerId);
      if (gate) await gate;
      return record;
    },
  };
  return { store, counter };
}

describe("cacheEventReads", () => {
  it("answers repeated anonymous reads from memory, and viewer reads from the database", async () => {
    const { store, counter } = countingStore(stores.events);
    const cached = await cacheEventReads(store, db);
    const { event } = await stores.events.create({ organizerId, details: details("Cached") });
    expect((await cached.get(event.id))?.title).toBe("Cached");
    expect(await cached.organizerOf(event.id)).toBe(organizerId);
    expect((await cached.get(event.id))?.title).toBe("Cached");
    expect(counter.reads).toBe(1);
    await cached.get(event.id, organizerId);
    expect(counter.reads).toBe(2);
    await cached.close();
  });

  it("shows this process's own writes at once", async () => {
    const cached = await cacheEventReads(stores.events, db);
    const { event } = await cached.create({ organizerId, details: details("Before") });
    await cached.get(event.id);
    await cached.update(event.id, { title: "After" });
    expect((await cached.get(event.id))?.title).toBe("After");
    const userId = (
      await stores.users.create({
        email: "joiner@example.com",
        displayName: "J",
        passwordHash: "x",
      })
    ).id;
    await cached.join(event.id, userId);
    expect((await cached.get(event.id))?.attendeeCount).toBe(1);
    await cached.delete(event.id);
    expect(await cached.get(event.id)).toBeUndefined();
    await cached.close();
  });

  it("sees a change another process committed once its notification arrives", async () => {
    const cached = await cacheEventReads(stores.events, db);
    const { event } = await stores.events.create({ organizerId, details: details("Elsewhere") });
    await cached.get(event.id);
    // Written around the cache, as another server process would.
    await stores.events.update(event.id, { title: "Changed elsewhere" });
    await eventually(async () => (await cached.get(event.id))?.title === "Changed elsewhere", {
      what: "the change made elsewhere",
    });
    await cached.close();
  });

  it("does not keep a read that overlapped a change", async () => {
    const { store, counter } = countingStore(stores.events);
    const cached = await cacheEventReads(store, db);
    const { event } = await stores.events.create({ organizerId, details: details("Racing") });
    const release = counter.hold();
    const slowRead = cached.get(event.id);
    await eventually(() => counter.reads === 1, { what: "one read of the store" });
    await cached.update(event.id, { title: "Won the race" });
    release();
    const stale: EventRecord | undefined = await slowRead;
    expect(stale?.title).toBe("Racing");
    expect((await cached.get(event.id))?.title).toBe("Won the race");
    expect(counter.reads).toBe(2);
    await cached.close();
  });
});
