import { createHash, randomUUID } from "node:crypto";
import { create as createMessage, toJson } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createValidator } from "@bufbuild/protovalidate";
import { Code, ConnectError, createContextValues, type HandlerContext } from "@connectrpc/connect";
import {
  CreateEventRequestSchema,
  EventSchema,
  ListEventsRequestSchema,
  UpdateEventRequestSchema,
} from "@grouppe/api";
import { createTestDatabase, postgresAvailable } from "@grouppe/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerKey } from "../src/rpc/context.js";
import { createEventService } from "../src/services/event-service.js";
import { PageTokens } from "../src/services/page-token.js";
import { createStores } from "../src/store/index.js";
import { serverSecret } from "../src/store/server-secret.js";
import { eventInput } from "./support/event-input.js";
import { buildInMemoryApp, type InMemoryApp } from "./support/in-memory-app.js";
import { injectConnect, injectProto } from "./support/inject-rpc.js";

const postgres = await postgresAvailable();
const create = "grouppe.v1.EventService/CreateEvent";
const list = "grouppe.v1.EventService/ListEvents";
const update = "grouppe.v1.EventService/UpdateEvent";
/** 10000-01-01T00:00:00Z, one second past the last time the API can carry. */
const year10000 = 253_402_300_800n;
const hour = 3_600_000;

describe.each([
  { kind: "PGlite", skip: undefined },
  { kind: "PostgreSQL", skip: "skip" in postgres ? postgres.skip : undefined },
])("bad input and racing writes on $kind", ({ kind, skip }) => {
  let it_ = it;
  if (skip) {
    it_ = it.skip as typeof it;
    it.skip(skip, () => undefined);
  }
  let built: InMemoryApp;
  let drop: (() => Promise<void>) | undefined;
  let token = "";

  const stores = () => createStores(built.db);
  const eventCount = async () =>
    Number((await built.db.query<{ n: number }>("SELECT count(*)::int AS n FROM events"))[0]?.n);

  beforeAll(async () => {
    if (skip) return;
    let env: Record<string, string> = {};
    if (kind === "PostgreSQL") {
      const database = await createTestDatabase();
      drop = database.drop;
      env = { DATABASE_URL: database.url };
    }
    built = await buildInMemoryApp(env);
    const signUp = await injectConnect(
      built.app,
      "grouppe.v1.AuthService/SignUp",
      JSON.stringify({ email: "ada@example.com", password: "correct horse", displayName: "Ada" }),
    );
    token = (signUp.json as { session: { accessToken: string } }).session.accessToken;
  });

  afterAll(async () => {
    await built?.close();
    await drop?.();
  });

  it_("refuses a create ending in year 10000 over binary; JSON listing keeps working", async () => {
    const event = eventInput();
    event.endsAt = { $typeName: "google.protobuf.Timestamp", seconds: year10000, nanos: 0 };
    const answer = await injectProto(built.app, create, CreateEventRequestSchema, { event }, token);
    expect([answer.code, answer.reason, answer.fields]).toEqual([
      "invalid_argument",
      "TIMESTAMP_OUT_OF_RANGE",
      ["event.ends_at"],
    ]);
    expect(await eventCount()).toBe(0);
    const listed = await injectConnect(built.app, list, "{}");
    expect(listed.code).toBe("ok");
  });

  it_("refuses out-of-range filters, starts and nanos with a field violation", async () => {
    const cases = [
      { endsAfter: { seconds: 10_000_000_000_000n } },
      { startsBefore: { seconds: -(2n ** 63n) } },
      { endsAfter: { seconds: 0n, nanos: -1 } },
      { startsBefore: { seconds: 0n, nanos: 1_000_000_000 } },
    ];
    for (const filter of cases) {
      const answer = await injectProto(built.app, list, ListEventsRequestSchema, filter);
      expect([answer.code, answer.fields]).toEqual([
        "invalid_argument",
        [Object.keys(filter)[0] === "endsAfter" ? "ends_after" : "starts_before"],
      ]);
    }
    const event = eventInput();
    event.startsAt = { $typeName: "google.protobuf.Timestamp", seconds: -(2n ** 63n), nanos: 0 };
    const created = await injectProto(
      built.app,
      create,
      CreateEventRequestSchema,
      { event },
      token,
    );
    expect([created.code, created.fields]).toEqual(["invalid_argument", ["event.starts_at"]]);
  });

  it_("refuses an update to year 10000 and keeps the event as it was", async () => {
    const created = await injectConnect(
      built.app,
      create,
      JSON.stringify({ event: toJson(EventSchema, eventInput()) }),
      { token },
    );
    const id = (created.json as { event: { id: string } }).event.id;
    const changed = await injectProto(
      built.app,
      update,
      UpdateEventRequestSchema,
      {
        event: {
          id,
          endsAt: { seconds: year10000 },
        },
        updateMask: { paths: ["ends_at"] },
      },
      token,
    );
    expect([changed.code, changed.fields]).toEqual(["invalid_argument", ["event.ends_at"]]);
    const [row] = await built.db.query<{ ends: Date }>("SELECT ends_at AS ends FROM events");
    expect(row?.ends.getUTCFullYear()).toBeLessThan(10000);
    await built.db.query("DELETE FROM events");
  });

  it_("refuses forged page tokens and signed positions out of range", async () => {
    // The old format: an unkeyed hash of the filters anyone can compute, and a position of 1e300.
    const filters = JSON.stringify({ includeCancelled: false });
    const fingerprint = createHash("sha256").update(filters).digest("base64url").slice(0, 16);
    const position = { s: 1e300, i: randomUUID(), n: Date.now() };
    const forged = Buffer.from(JSON.stringify({ p: position, f: fingerprint })).toString(
      "base64url",
    );
    // Signed with the deployment's own secret, so only the range check stands in the way.
    const secret = await serverSecret(built.db, "page-token");
    expect(await serverSecret(built.db, "page-token")).toEqual(secret);
    const signed = new PageTokens(secret).encode(position, {
      endsAfter: undefined,
      startsBefore: undefined,
      organizerId: undefined,
      text: undefined,
      relation: undefined,
      includeCancelled: false,
    });
    for (const pageToken of [forged, signed]) {
      const answer = await injectConnect(built.app, list, JSON.stringify({ pageToken }));
      expect([answer.code, answer.fields]).toEqual(["invalid_argument", ["page_token"]]);
    }
  });

  it_("refuses invalid UTF-8 in a Connect JSON string and stores nothing", async () => {
    const json = JSON.stringify({ event: toJson(EventSchema, eventInput({ title: "@@@@@" })) });
    const at = Buffer.from(json).indexOf("@@@@@");
    const body = Buffer.from(json);
    // "A", an invalid lead byte, "(", another, "B": not UTF-8.
    Buffer.from([0x41, 0xe9, 0x28, 0xe9, 0x42]).copy(body, at);
    const answer = await injectConnect(built.app, create, body, { token });
    expect([answer.code, answer.reason, answer.fields]).toEqual([
      "invalid_argument",
      "INVALID_UTF8",
      ["event.title"],
    ]);
    const lone = JSON.stringify({ event: toJson(EventSchema, eventInput()) }).replace(
      '"Svelte meetup"',
      '"half \\ud800 a pair"',
    );
    const surrogate = await injectConnect(built.app, create, lone, { token });
    expect(surrogate.code).toBe("invalid_argument");
    expect(await eventCount()).toBe(0);
  });

  it_(
    "checks the rules against the event it writes, so racing updates never combine into an invalid one",
    async () => {
      const organizer = await stores().users.create({
        email: `race-${randomUUID()}@example.com`,
        displayName: "Ada",
        passwordHash: "unused",
      });
      const start = new Date(Date.now() + 24 * hour);
      const { event } = await stores().events.create({
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
          ...stores().events,
          async get(id, viewerId) {
            const found = await stores().events.get(id, viewerId);
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
          createMessage(UpdateEventRequestSchema, {
            event: { id: event.id, startsAt: later(1 * hour) },
            updateMask: { paths: ["starts_at"] },
          }),
          context,
        ),
        // Ends half an hour after the original start: also fine against the event as read.
        service.updateEvent(
          createMessage(UpdateEventRequestSchema, {
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
      const stored = await stores().events.get(event.id);
      expect(stored && stored.endsAt > stored.startsAt).toBe(true);
    },
  );
});
