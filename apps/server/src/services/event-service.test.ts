import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createValidator } from "@bufbuild/protovalidate";
import { Code, ConnectError, createContextValues, type HandlerContext } from "@connectrpc/connect";
import { UpdateEventRequestSchema } from "@grouppe/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerKey } from "../rpc/context.js";
import { createStores, type Db, migrate, openPgliteDb } from "../store/index.js";
import type { Stores } from "../store/stores.js";
import { createEventService } from "./event-service.js";
import { PageTokens } from "./page-token.js";

const hour = 3_600_000;
let db: Db;
let stores: Stores;

beforeAll(async () => {
  db = await openPgliteDb("memory://");
  await migrate(db);
  stores = createStores(db);
});

afterAll(async () => {
  await db?.close();
});

describe("UpdateEvent", () => {
  it("checks the rules against the event it writes, so racing updates never combine into an invalid one", async () => {
    const organizer = await stores.users.create({
      email: "ada@example.com",
      displayName: "Ada",
      passwordHash: "unused",
    });
    const start = new Date(Date.now() + 24 * hour);
    const { event } = await stores.events.create({
      organizerId: organizer.id,
      details: {
        title: "Meetup",
        description: "",
        startsAt: start,
        endsAt: new Date(start.getTime() + 2 * hour),
        timeZone: "UTC",
        location: { kind: "address", address: "Hafenstrasse 1" },
        capacity: 10,
      },
    });
    // Both calls read the event before either writes: the interleaving that lost the race.
    let reads = 0;
    let bothRead: () => void = () => undefined;
    const barrier = new Promise<void>((resolve) => {
      bothRead = resolve;
    });
    const service = createEventService({
      events: {
        ...stores.events,
        async get(id, viewerId) {
          const found = await stores.events.get(id, viewerId);
          if (++reads === 2) bothRead();
          await Promise.race([barrier, new Promise((r) => setTimeout(r, 500))]);
          return found;
        },
      },
      validator: createValidator(),
      watch: { watchEvent: undefined as never, watchEvents: undefined as never },
      pageTokens: new PageTokens(new Uint8Array(32)),
    });
    const context = {
      values: createContextValues().set(callerKey, { kind: "user", userId: organizer.id }),
    } as HandlerContext;
    const later = (ms: number) => timestampFromDate(new Date(start.getTime() + ms));
    const outcomes = await Promise.allSettled([
      // Starts an hour later: fine against the event as read (ends two hours after start).
      service.updateEvent(
        create(UpdateEventRequestSchema, {
          event: { id: event.id, startsAt: later(1 * hour) },
          updateMask: { paths: ["starts_at"] },
        }),
        context,
      ),
      // Ends half an hour after the original start: also fine against the event as read.
      service.updateEvent(
        create(UpdateEventRequestSchema, {
          event: { id: event.id, endsAt: later(hour / 2) },
          updateMask: { paths: ["ends_at"] },
        }),
        context,
      ),
    ]);
    const codes = outcomes.map((o) =>
      o.status === "fulfilled" ? "OK" : Code[ConnectError.from(o.reason).code],
    );
    expect(codes.sort()).toEqual(["InvalidArgument", "OK"]);
    const stored = await stores.events.get(event.id);
    expect(stored && stored.endsAt > stored.startsAt).toBe(true);
  });
});
