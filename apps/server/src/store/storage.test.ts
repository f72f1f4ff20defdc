import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, eventually, postgresAvailable } from "@grouppe/testkit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError, type DomainReason } from "../domain/domain-error.js";
import type { Db } from "./db.js";
import {
  type ChangeNotice,
  changeChannel,
  createStores,
  type EventDetails,
  migrate,
  openDb,
  type Stores,
} from "./index.js";
import { migrations } from "./migrations/index.js";
import { openPgliteDb } from "./pglite-db.js";
import { openPostgresDb } from "./postgres-db.js";

const hour = 3_600_000;
const postgres = await postgresAvailable();

interface Engine {
  name: "pglite" | "postgres";
  skip?: string;
  open(): Promise<{ db: Db; url?: string; dispose(): Promise<void> }>;
}

const engines: Engine[] = [
  {
    name: "pglite",
    async open() {
      const db = await openPgliteDb("memory://");
      return { db, dispose: () => db.close() };
    },
  },
  {
    name: "postgres",
    skip: "skip" in postgres ? postgres.skip : undefined,
    async open() {
      const database = await createTestDatabase();
      // A pool of several connections, so concurrent calls really run in parallel.
      const db = await openPostgresDb({
        url: database.url,
        poolSize: 8,
        reconnectDelayMs: { initial: 50, max: 500 },
      });
      return {
        db,
        url: database.url,
        async dispose() {
          await db.close();
          await database.drop();
        },
      };
    },
  },
];

async function domainReason(
  work: Promise<unknown>,
): Promise<{ reason: DomainReason; field?: string }> {
  try {
    await work;
  } catch (error) {
    if (error instanceof DomainError) return { reason: error.reason, field: error.field };
    throw error;
  }
  throw new Error("expected a DomainError, but the call succeeded");
}

function details(overrides: Partial<EventDetails> = {}): EventDetails {
  const startsAt = overrides.startsAt ?? new Date(Date.now() + 24 * hour);
  return {
    title: "Svelte meetup",
    description: "Runes in practice",
    startsAt,
    endsAt: new Date(startsAt.getTime() + 2 * hour),
    timeZone: "Europe/Berlin",
    location: { kind: "address", address: "Hafenstrasse 1, Hamburg" },
    capacity: 30,
    ...overrides,
  };
}

for (const engine of engines) {
  const title = engine.skip
    ? `storage on ${engine.name} (skipped: ${engine.skip})`
    : `storage on ${engine.name}`;

  describe.skipIf(engine.skip !== undefined)(title, () => {
    let db: Db;
    let url: string | undefined;
    let dispose: () => Promise<void>;
    let stores: Stores;
    const notices: ChangeNotice[] = [];

    beforeAll(async () => {
      ({ db, url, dispose } = await engine.open());
      await migrate(db);
      stores = createStores(db);
      await db.listen(changeChannel, (payload) =>
        notices.push(JSON.parse(payload) as ChangeNotice),
      );
    });

    afterAll(async () => {
      await dispose?.();
    });

    async function newUser(name = "Ada"): Promise<string> {
      const user = await stores.users.create({
        email: `${name.toLowerCase()}-${randomUUID()}@example.com`,
        displayName: name,
        passwordHash: "scrypt$hash",
      });
      return user.id;
    }

    async function newUsers(count: number): Promise<string[]> {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) ids.push(await newUser(`User${i}`));
      return ids;
    }

    async function newEvent(organizerId: string, overrides: Partial<EventDetails> = {}) {
      return (await stores.events.create({ organizerId, details: details(overrides) })).event;
    }

    function noticesFor(eventId: string): ChangeNotice[] {
      return notices.filter((notice) => notice.e === eventId);
    }

    /** Waits for the notice of `eventId` at version `v`, proving everything sent before it arrived. */
    function noticeAt(eventId: string, v: number): Promise<ChangeNotice> {
      return eventually(() => notices.find((n) => n.e === eventId && n.v === v) ?? false, {
        what: `notice v${v} of ${eventId}`,
      });
    }

    /** Rows actually in rsvps, to hold the counts on the event row against. */
    async function rsvpCounts(eventId: string) {
      const rows = await db.query<{ status: string; n: number }>(
        "SELECT status, count(*)::int AS n FROM rsvps WHERE event_id = $1 GROUP BY status",
        [eventId],
      );
      const count = (status: string) => rows.find((row) => row.status === status)?.n ?? 0;
      return { attending: count("attending"), waitlisted: count("waitlisted") };
    }

    describe("migrations", () => {
      it("records each migration once and is a no-op when run again", async () => {
        await migrate(db);
        const rows = await db.query<{ version: number; name: string }>(
          "SELECT version, name FROM schema_migrations ORDER BY version",
        );
        expect(rows).toEqual([
          { version: 1, name: "initial" },
          { version: 2, name: "signing-keys" },
          { version: 3, name: "rate-limits" },
          { version: 4, name: "server-secrets" },
          { version: 5, name: "signing-key-ring" },
          { version: 6, name: "calendar-feeds" },
        ]);
      });

      it("has a table for the shared signing key", async () => {
        await db.query(
          "INSERT INTO signing_keys (id, private_pem) VALUES ('test-key', $1) ON CONFLICT (id) DO NOTHING",
          ["pem"],
        );
        expect(
          await db.query("SELECT private_pem FROM signing_keys WHERE id = 'test-key'"),
        ).toEqual([{ private_pem: "pem" }]);
      });

      it("refuses a database whose schema is newer than the code", async () => {
        await db.query(
          "INSERT INTO schema_migrations (version, name) VALUES (999, 'from the future')",
        );
        try {
          await expect(migrate(db)).rejects.toThrow(/version 999, newer than this server knows/);
        } finally {
          await db.query("DELETE FROM schema_migrations WHERE version = 999");
        }
      });

      it("applies a migration's statements all or nothing", async () => {
        const broken = {
          version: (migrations.at(-1)?.version ?? 0) + 1,
          name: "broken",
          statements: ["CREATE TABLE half_done (id int)", "SELECT * FROM missing_table"],
        };
        await expect(migrate(db, [...migrations, broken])).rejects.toThrow(/missing_table/);
        const tables = await db.query(
          "SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'",
        );
        expect(tables).toEqual([]);
        const versions = await db.query("SELECT version FROM schema_migrations ORDER BY version");
        expect(versions).toEqual(migrations.map((m) => ({ version: m.version })));
      });
    });

    describe("transactions and notifications", () => {
      it("commits when the work resolves and rolls back when it throws", async () => {
        const id = randomUUID();
        await expect(
          db.transaction(async (tx) => {
            await tx.query(
              "INSERT INTO users (id, email, display_name, password_hash) VALUES ($1, $2, 'X', 'h')",
              [id, `${id}@example.com`],
            );
            throw new Error("changed my mind");
          }),
        ).rejects.toThrow("changed my mind");
        expect(await stores.users.get(id)).toBeUndefined();
        await db.transaction((tx) =>
          tx.query(
            "INSERT INTO users (id, email, display_name, password_hash) VALUES ($1, $2, 'X', 'h')",
            [id, `${id}@example.com`],
          ),
        );
        expect(await stores.users.get(id)).toMatchObject({ id, displayName: "X" });
      });

      it("delivers NOTIFY only after commit, and never after rollback", async () => {
        const received: string[] = [];
        const unlisten = await db.listen("grouppe_test_commit", (payload) =>
          received.push(payload),
        );
        await db.transaction(async (tx) => {
          await tx.query("SELECT pg_notify('grouppe_test_commit', 'committed')");
          if (db.kind === "postgres") {
            // Sent on another connection and committed at once: once it arrives, anything the
            // open transaction had leaked would have arrived too.
            await db.query("SELECT pg_notify('grouppe_test_commit', 'outside')");
            await eventually(() => received.includes("outside"), {
              what: "the outside notice",
            });
          }
          expect(received).not.toContain("committed");
        });
        await eventually(() => received.includes("committed"), {
          what: "the committed notice",
        });

        await expect(
          db.transaction(async (tx) => {
            await tx.query("SELECT pg_notify('grouppe_test_commit', 'rolled back')");
            throw new Error("abort");
          }),
        ).rejects.toThrow("abort");
        // Notifications arrive in commit order, so once the marker is here the rolled-back one
        // would be too.
        await db.query("SELECT pg_notify('grouppe_test_commit', 'marker')");
        await eventually(() => received.includes("marker"), {
          what: "the marker",
        });
        expect(received).not.toContain("rolled back");
        await unlisten();
      });

      it("keeps other subscribers of a channel when one unlistens", async () => {
        const first: string[] = [];
        const second: string[] = [];
        const stopFirst = await db.listen("grouppe_test_two", (payload) => first.push(payload));
        const stopSecond = await db.listen("grouppe_test_two", (payload) => second.push(payload));
        await db.query("SELECT pg_notify('grouppe_test_two', 'both')");
        await eventually(() => first.length > 0 && second.length > 0, {
          what: "both subscribers",
        });
        await stopFirst();
        await db.query("SELECT pg_notify('grouppe_test_two', 'second only')");
        await eventually(() => second.includes("second only"), {
          what: "the second subscriber",
        });
        expect(first).toEqual(["both"]);
        await stopSecond();
      });

      it("refuses channel names that would need quoting", async () => {
        await expect(db.listen("bad channel; DROP TABLE users", () => undefined)).rejects.toThrow(
          /invalid channel name/,
        );
      });

      it("reads parameters and results the same way on both engines", async () => {
        const at = new Date("2030-01-02T03:04:05.678Z");
        const ids = [randomUUID(), randomUUID()];
        for (let round = 0; round < 2; round++) {
          const [row] = await db.query(
            "SELECT $1::timestamptz AS at, $2::uuid[] AS ids, $3::text AS nothing, $4::bigint AS big",
            [at, ids, null, 9_007_199_254],
          );
          expect(row).toEqual({ at, ids, nothing: null, big: 9_007_199_254 });
        }
      });

      it("reports SQL errors with their SQLSTATE and stays usable", async () => {
        await expect(db.query("SELECT * FROM nowhere WHERE id = $1", [1])).rejects.toMatchObject({
          code: "42P01",
        });
        await expect(
          db.transaction(async (tx) => {
            await tx.query("SELECT 1 / $1::int", [0]);
          }),
        ).rejects.toMatchObject({ code: "22012" });
        expect(await db.query("SELECT $1::int AS n", [5])).toEqual([{ n: 5 }]);
        expect(await db.transaction((tx) => tx.query("SELECT $1::int AS n", [6]))).toEqual([
          { n: 6 },
        ]);
      });

      it("answers ping", async () => {
        await expect(db.ping()).resolves.toBeUndefined();
      });
    });

    describe("users", () => {
      it("creates a user and finds it by id and by email in any case", async () => {
        const email = `Grace.${randomUUID()}@Example.com`;
        const user = await stores.users.create({ email, displayName: "Grace", passwordHash: "h1" });
        expect(user).toMatchObject({ email, displayName: "Grace" });
        expect(user.createTime).toBeInstanceOf(Date);
        expect(await stores.users.get(user.id)).toEqual(user);
        expect(await stores.users.findByEmail(email.toUpperCase())).toEqual({
          user,
          passwordHash: "h1",
        });
        expect(
          await stores.users.findByEmail(`nobody-${randomUUID()}@example.com`),
        ).toBeUndefined();
        expect(await stores.users.get(randomUUID())).toBeUndefined();
        expect(await stores.users.get("not-a-uuid")).toBeUndefined();
      });

      it("refuses a second account for the same email, whatever its case", async () => {
        const email = `dup-${randomUUID()}@example.com`;
        await stores.users.create({ email, displayName: "One", passwordHash: "h" });
        const refusal = await domainReason(
          stores.users.create({
            email: email.toUpperCase(),
            displayName: "Two",
            passwordHash: "h",
          }),
        );
        expect(refusal).toEqual({ reason: "EMAIL_TAKEN", field: "email" });
      });
    });

    describe("calendar feeds", () => {
      it("keeps one token hash per user, replaces and removes it, and lists events with a seat", async () => {
        const [organizerId = "", guestId = "", waitingId = ""] = await newUsers(3);
        expect(await stores.calendarFeeds.get(guestId)).toBeUndefined();
        const first = await stores.calendarFeeds.replace(guestId, `hash-a-${guestId}`);
        expect(await stores.calendarFeeds.get(guestId)).toEqual(first);
        expect(await stores.calendarFeeds.ownerOf(`hash-a-${guestId}`)).toBe(guestId);
        await stores.calendarFeeds.replace(guestId, `hash-b-${guestId}`);
        expect(await stores.calendarFeeds.ownerOf(`hash-a-${guestId}`)).toBeUndefined();
        expect(await stores.calendarFeeds.ownerOf(`hash-b-${guestId}`)).toBe(guestId);

        const later = await stores.events.create({
          organizerId,
          details: details({
            title: "Later",
            startsAt: new Date(Date.now() + 48 * hour),
            endsAt: new Date(Date.now() + 50 * hour),
            capacity: 1,
          }),
        });
        const sooner = await stores.events.create({
          organizerId,
          details: details({
            title: "Sooner",
            startsAt: new Date(Date.now() + 24 * hour),
            endsAt: new Date(Date.now() + 26 * hour),
          }),
        });
        await stores.events.join(later.event.id, guestId);
        await stores.events.join(sooner.event.id, guestId);
        await stores.events.join(later.event.id, waitingId);
        await stores.events.cancel(sooner.event.id, "rain");
        const feed = await stores.calendarFeeds.eventsAttending(guestId);
        expect(feed.map((event) => [event.title, event.state])).toEqual([
          ["Sooner", "cancelled"],
          ["Later", "scheduled"],
        ]);
        // The waitlist is not "going".
        expect(await stores.calendarFeeds.eventsAttending(waitingId)).toEqual([]);

        await stores.calendarFeeds.remove(guestId);
        expect(await stores.calendarFeeds.get(guestId)).toBeUndefined();
        expect(await stores.calendarFeeds.ownerOf(`hash-b-${guestId}`)).toBeUndefined();
        await stores.calendarFeeds.remove(guestId);
      });
    });

    describe("sessions", () => {
      const later = () => new Date(Date.now() + hour);

      it("rotates a token once, then treats it as reused and revokes the whole family", async () => {
        const userId = await newUser();
        const familyId = randomUUID();
        await stores.sessions.create({
          userId,
          familyId,
          tokenHash: `a-${familyId}`,
          expiresAt: later(),
        });
        expect(
          await stores.sessions.rotate(`a-${familyId}`, {
            tokenHash: `b-${familyId}`,
            expiresAt: later(),
          }),
        ).toEqual({
          kind: "rotated",
          userId,
          familyId,
        });
        expect(
          await stores.sessions.rotate(`a-${familyId}`, {
            tokenHash: `x-${familyId}`,
            expiresAt: later(),
          }),
        ).toEqual({
          kind: "reused",
        });
        // The thief's replay revoked the legitimate successor too.
        expect(
          await stores.sessions.rotate(`b-${familyId}`, {
            tokenHash: `c-${familyId}`,
            expiresAt: later(),
          }),
        ).toEqual({
          kind: "reused",
        });
        const stored = await db.query("SELECT 1 FROM refresh_tokens WHERE token_hash = $1", [
          `x-${familyId}`,
        ]);
        expect(stored).toEqual([]);
      });

      it("lets exactly one of many concurrent rotations of one token win", async () => {
        const userId = await newUser();
        const familyId = randomUUID();
        await stores.sessions.create({
          userId,
          familyId,
          tokenHash: `r-${familyId}`,
          expiresAt: later(),
        });
        const outcomes = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            stores.sessions.rotate(`r-${familyId}`, {
              tokenHash: `r${i}-${familyId}`,
              expiresAt: later(),
            }),
          ),
        );
        expect(outcomes.filter((o) => o.kind === "rotated")).toHaveLength(1);
        expect(outcomes.filter((o) => o.kind === "reused")).toHaveLength(7);
      });

      it("reports expired and unknown tokens without changing anything", async () => {
        const userId = await newUser();
        const familyId = randomUUID();
        await stores.sessions.create({
          userId,
          familyId,
          tokenHash: `old-${familyId}`,
          expiresAt: new Date(Date.now() - 1000),
        });
        expect(
          await stores.sessions.rotate(`old-${familyId}`, {
            tokenHash: `n-${familyId}`,
            expiresAt: later(),
          }),
        ).toEqual({
          kind: "expired",
        });
        expect(
          await stores.sessions.rotate(`missing-${familyId}`, {
            tokenHash: `m-${familyId}`,
            expiresAt: later(),
          }),
        ).toEqual({ kind: "unknown" });
      });

      it("revokes a family on logout and ignores unknown tokens", async () => {
        const userId = await newUser();
        const familyId = randomUUID();
        await stores.sessions.create({
          userId,
          familyId,
          tokenHash: `l-${familyId}`,
          expiresAt: later(),
        });
        await stores.sessions.revokeFamily(`unknown-${familyId}`);
        await stores.sessions.revokeFamily(`l-${familyId}`);
        expect(
          await stores.sessions.rotate(`l-${familyId}`, {
            tokenHash: `l2-${familyId}`,
            expiresAt: later(),
          }),
        ).toEqual({
          kind: "reused",
        });
      });
    });

    describe("creating and reading events", () => {
      it("creates an event, notifies after commit and reads it back", async () => {
        const organizerId = await newUser("Org");
        const input = details({
          location: { kind: "online", url: "https://meet.example.com/x" },
          capacity: 5,
        });
        const { event, created } = await stores.events.create({ organizerId, details: input });
        expect(created).toBe(true);
        expect(event).toMatchObject({
          ...input,
          organizerId,
          organizerName: "Org",
          state: "scheduled",
          cancelReason: "",
          attendeeCount: 0,
          waitlistCount: 0,
          version: 1,
        });
        expect(event.viewerRsvp).toBeUndefined();
        expect(await stores.events.get(event.id)).toEqual(event);
        expect(await stores.events.organizerOf(event.id)).toBe(organizerId);
        expect(await noticeAt(event.id, 1)).toEqual({ e: event.id, v: 1, k: "created" });
      });

      it("returns nothing for unknown or malformed ids", async () => {
        expect(await stores.events.get(randomUUID())).toBeUndefined();
        expect(await stores.events.get("nope")).toBeUndefined();
        expect(await stores.events.organizerOf(randomUUID())).toBeUndefined();
      });

      it("refuses an organizer who does not exist", async () => {
        const refusal = await domainReason(
          stores.events.create({ organizerId: randomUUID(), details: details() }),
        );
        expect(refusal.reason).toBe("USER_NOT_FOUND");
      });

      it("creates one event for 20 concurrent calls with one request id", async () => {
        const organizerId = await newUser();
        const requestId = randomUUID();
        const results = await Promise.all(
          Array.from({ length: 20 }, () =>
            stores.events.create({ organizerId, details: details(), requestId }),
          ),
        );
        const ids = new Set(results.map((r) => r.event.id));
        expect(ids.size).toBe(1);
        expect(results.filter((r) => r.created)).toHaveLength(1);
        const [{ n }] = (await db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM events WHERE organizer_id = $1",
          [organizerId],
        )) as [{ n: number }];
        expect(n).toBe(1);
        const [id] = [...ids] as [string];
        await noticeAt(id, 1);
        expect(noticesFor(id)).toEqual([{ e: id, v: 1, k: "created" }]);
        // Another organizer may use the same request id for an event of its own.
        const other = await stores.events.create({
          organizerId: await newUser(),
          details: details(),
          requestId,
        });
        expect(other.created).toBe(true);
        expect(other.event.id).not.toBe(id);
      });

      it("fills in the viewer's RSVP on reads", async () => {
        const organizerId = await newUser();
        const [viewer, stranger] = (await newUsers(2)) as [string, string];
        const event = await newEvent(organizerId);
        await stores.events.join(event.id, viewer);
        expect((await stores.events.get(event.id, viewer))?.viewerRsvp).toBe("attending");
        expect((await stores.events.get(event.id, stranger))?.viewerRsvp).toBeUndefined();
        const [listed] = await stores.events.list({
          endsAfter: new Date(),
          organizerId,
          includeCancelled: false,
          limit: 10,
          viewerId: viewer,
        });
        expect(listed?.viewerRsvp).toBe("attending");
      });
    });

    describe("updating, cancelling and deleting", () => {
      it("changes the given fields, bumps the version and notifies", async () => {
        const event = await newEvent(await newUser());
        const startsAt = new Date(Date.now() + 48 * hour);
        const updated = await stores.events.update(
          event.id,
          {
            title: "Renamed",
            startsAt,
            endsAt: new Date(startsAt.getTime() + hour),
            location: { kind: "online", url: "https://x.example" },
          },
          event.version,
        );
        expect(updated).toMatchObject({
          title: "Renamed",
          description: event.description,
          startsAt,
          location: { kind: "online", url: "https://x.example" },
          version: event.version + 1,
        });
        expect(updated.updateTime.getTime()).toBeGreaterThanOrEqual(event.updateTime.getTime());
        expect(await noticeAt(event.id, 2)).toEqual({ e: event.id, v: 2, k: "updated" });
        expect(await stores.events.get(event.id)).toEqual(updated);
      });

      it("refuses a stale version without changing or notifying anything", async () => {
        const event = await newEvent(await newUser());
        await stores.events.update(event.id, { title: "First" }, 1);
        expect(
          await domainReason(stores.events.update(event.id, { title: "Second" }, 1)),
        ).toMatchObject({
          reason: "ETAG_MISMATCH",
        });
        expect(await domainReason(stores.events.cancel(event.id, "why", 1))).toMatchObject({
          reason: "ETAG_MISMATCH",
        });
        expect(await domainReason(stores.events.delete(event.id, 1))).toMatchObject({
          reason: "ETAG_MISMATCH",
        });
        const current = await stores.events.get(event.id);
        expect(current).toMatchObject({ title: "First", version: 2, state: "scheduled" });
        // A later change arriving proves no notice was sent for the refused ones in between.
        await stores.events.update(event.id, { description: "marker" });
        await noticeAt(event.id, 3);
        expect(noticesFor(event.id).map((n) => n.v)).toEqual([1, 2, 3]);
      });

      it("refuses unknown events", async () => {
        const id = randomUUID();
        expect((await domainReason(stores.events.update(id, { title: "x" }))).reason).toBe(
          "EVENT_NOT_FOUND",
        );
        expect((await domainReason(stores.events.cancel(id, "x"))).reason).toBe("EVENT_NOT_FOUND");
        expect((await domainReason(stores.events.delete(id))).reason).toBe("EVENT_NOT_FOUND");
        expect((await domainReason(stores.events.join(id, await newUser()))).reason).toBe(
          "EVENT_NOT_FOUND",
        );
        expect((await domainReason(stores.events.leave(id, await newUser()))).reason).toBe(
          "EVENT_NOT_FOUND",
        );
        expect(
          (await domainReason(stores.events.update("not-a-uuid", { title: "x" }))).reason,
        ).toBe("EVENT_NOT_FOUND");
      });

      it("cancels once, keeps the reason, closes RSVPs and hides the event from default lists", async () => {
        const organizerId = await newUser();
        const event = await newEvent(organizerId);
        const cancelled = await stores.events.cancel(event.id, "speaker ill", event.version);
        expect(cancelled).toMatchObject({
          state: "cancelled",
          cancelReason: "speaker ill",
          version: 2,
        });
        expect(await noticeAt(event.id, 2)).toEqual({ e: event.id, v: 2, k: "cancelled" });
        expect((await domainReason(stores.events.cancel(event.id, "again"))).reason).toBe(
          "EVENT_CANCELLED",
        );
        expect((await domainReason(stores.events.join(event.id, await newUser()))).reason).toBe(
          "EVENT_CANCELLED",
        );
        expect((await domainReason(stores.events.update(event.id, { title: "x" }))).reason).toBe(
          "EVENT_CANCELLED",
        );
        const query = { endsAfter: new Date(), organizerId, limit: 10 };
        expect(await stores.events.list({ ...query, includeCancelled: false })).toEqual([]);
        expect(
          (await stores.events.list({ ...query, includeCancelled: true })).map((e) => e.id),
        ).toEqual([event.id]);
      });

      it("deletes an event with its RSVPs and notifies with version 0", async () => {
        const event = await newEvent(await newUser());
        await stores.events.join(event.id, await newUser());
        await stores.events.delete(event.id, 2);
        expect(await stores.events.get(event.id)).toBeUndefined();
        expect(await rsvpCounts(event.id)).toEqual({ attending: 0, waitlisted: 0 });
        expect(await noticeAt(event.id, 0)).toEqual({ e: event.id, v: 0, k: "deleted" });
      });
    });

    describe("RSVPs", () => {
      it("gives seats, then waitlist places, and counts every change", async () => {
        const event = await newEvent(await newUser(), { capacity: 2 });
        const [a, b, c] = (await newUsers(3)) as [string, string, string];
        const first = await stores.events.join(event.id, a);
        expect(first.attendee).toMatchObject({
          eventId: event.id,
          userId: a,
          displayName: "User0",
          status: "attending",
          waitlistPosition: 0,
        });
        expect(first.event).toMatchObject({
          attendeeCount: 1,
          waitlistCount: 0,
          version: 2,
          viewerRsvp: "attending",
        });
        expect(first.event.updateTime.getTime()).toBeGreaterThanOrEqual(event.updateTime.getTime());
        await stores.events.join(event.id, b);
        const third = await stores.events.join(event.id, c);
        expect(third.attendee).toMatchObject({ status: "waitlisted", waitlistPosition: 1 });
        expect(third.event).toMatchObject({ attendeeCount: 2, waitlistCount: 1, version: 4 });
        expect(await noticeAt(event.id, 4)).toEqual({ e: event.id, v: 4, k: "attendance" });
      });

      it("treats joining twice as the same RSVP: no change, no notice", async () => {
        const event = await newEvent(await newUser(), { capacity: 1 });
        const [a, b] = (await newUsers(2)) as [string, string];
        await stores.events.join(event.id, a);
        const waiting = await stores.events.join(event.id, b);
        const again = await stores.events.join(event.id, b);
        expect(again.attendee).toEqual(waiting.attendee);
        expect(again.event.version).toBe(3);
        expect(again.event.viewerRsvp).toBe("waitlisted");
        const leftNobody = await stores.events.leave(event.id, await newUser());
        expect(leftNobody.event.version).toBe(3);
        await stores.events.update(event.id, { title: "marker" });
        await noticeAt(event.id, 4);
        expect(noticesFor(event.id).map((n) => n.v)).toEqual([1, 2, 3, 4]);
      });

      it("gives a freed seat to the earliest on the waitlist", async () => {
        const event = await newEvent(await newUser(), { capacity: 1 });
        const [a, b, c, d] = (await newUsers(4)) as [string, string, string, string];
        for (const user of [a, b, c, d]) await stores.events.join(event.id, user);
        const afterLeave = await stores.events.leave(event.id, a);
        expect(afterLeave.event).toMatchObject({ attendeeCount: 1, waitlistCount: 2 });
        expect((await stores.events.get(event.id, b))?.viewerRsvp).toBe("attending");
        // Leaving the waitlist moves nobody to a seat but closes the gap.
        await stores.events.leave(event.id, c);
        const attendees = await stores.events.listAttendees(event.id, { limit: 10 });
        expect(attendees.map((x) => [x.userId, x.status, x.waitlistPosition])).toEqual([
          [b, "attending", 0],
          [d, "waitlisted", 1],
        ]);
        expect(await rsvpCounts(event.id)).toEqual({ attending: 1, waitlisted: 1 });
      });

      it("refuses events that ended and users that do not exist", async () => {
        const ended = await newEvent(await newUser(), {
          startsAt: new Date(Date.now() - 3 * hour),
        });
        expect((await domainReason(stores.events.join(ended.id, await newUser()))).reason).toBe(
          "EVENT_ENDED",
        );
        const event = await newEvent(await newUser());
        expect((await domainReason(stores.events.join(event.id, randomUUID()))).reason).toBe(
          "USER_NOT_FOUND",
        );
        expect(await stores.events.get(event.id)).toMatchObject({ attendeeCount: 0, version: 1 });
      });

      it("seats exactly 10 of 50 concurrent joins on capacity 10 and waitlists 40 in order", async () => {
        const event = await newEvent(await newUser(), { capacity: 10 });
        const users = await newUsers(50);
        const results = await Promise.all(users.map((user) => stores.events.join(event.id, user)));
        expect(results.filter((r) => r.attendee.status === "attending")).toHaveLength(10);
        const positions = results
          .filter((r) => r.attendee.status === "waitlisted")
          .map((r) => r.attendee.waitlistPosition)
          .sort((x, y) => x - y);
        expect(positions).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
        expect(await stores.events.get(event.id)).toMatchObject({
          attendeeCount: 10,
          waitlistCount: 40,
          version: 51,
        });
        expect(await rsvpCounts(event.id)).toEqual({ attending: 10, waitlisted: 40 });
        // The list agrees with what each join was told.
        const listed = await stores.events.listAttendees(event.id, { limit: 100 });
        for (const { attendee } of results) {
          const row = listed.find((x) => x.userId === attendee.userId);
          expect(row).toMatchObject({
            status: attendee.status,
            waitlistPosition: attendee.waitlistPosition,
          });
        }
      });

      it("lists attendees in join order, then the waitlist, across pages", async () => {
        const event = await newEvent(await newUser(), { capacity: 5 });
        const users = await newUsers(13);
        for (const user of users) await stores.events.join(event.id, user);
        const all = await stores.events.listAttendees(event.id, { limit: 100 });
        expect(all.map((x) => x.userId)).toEqual(users);
        expect(all.map((x) => x.waitlistPosition)).toEqual([0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        const paged = [];
        let after:
          | { status: "attending" | "waitlisted"; joinTime: Date; userId: string }
          | undefined;
        for (let pages = 0; pages < 10; pages++) {
          const page = await stores.events.listAttendees(event.id, { after, limit: 4 });
          paged.push(...page);
          const last = page.at(-1);
          if (page.length < 4 || !last) break;
          // Page tokens carry the join time as milliseconds.
          after = {
            status: last.status,
            joinTime: new Date(last.joinTime.getTime()),
            userId: last.userId,
          };
        }
        expect(paged).toEqual(all);
        expect(await stores.events.listAttendees(randomUUID(), { limit: 10 })).toEqual([]);
      });
    });

    describe("capacity changes", () => {
      it("refuses capacity below attendance", async () => {
        const event = await newEvent(await newUser(), { capacity: 5 });
        for (const user of await newUsers(3)) await stores.events.join(event.id, user);
        const refusal = await domainReason(stores.events.update(event.id, { capacity: 2 }));
        expect(refusal).toEqual({ reason: "CAPACITY_BELOW_ATTENDANCE", field: "capacity" });
        expect(await stores.events.get(event.id)).toMatchObject({ capacity: 5, version: 4 });
        expect(await stores.events.update(event.id, { capacity: 3 })).toMatchObject({
          capacity: 3,
          attendeeCount: 3,
        });
      });

      it("promotes from the waitlist in order when capacity rises, and all of it when unlimited", async () => {
        const event = await newEvent(await newUser(), { capacity: 2 });
        const users = await newUsers(7);
        for (const user of users) await stores.events.join(event.id, user);
        const raised = await stores.events.update(event.id, { capacity: 4 });
        expect(raised).toMatchObject({ capacity: 4, attendeeCount: 4, waitlistCount: 3 });
        const attendees = await stores.events.listAttendees(event.id, { limit: 10 });
        expect(attendees.filter((x) => x.status === "attending").map((x) => x.userId)).toEqual(
          users.slice(0, 4),
        );
        expect(
          attendees
            .filter((x) => x.status === "waitlisted")
            .map((x) => [x.userId, x.waitlistPosition]),
        ).toEqual([
          [users[4], 1],
          [users[5], 2],
          [users[6], 3],
        ]);
        const unlimited = await stores.events.update(event.id, { capacity: 0 });
        expect(unlimited).toMatchObject({ capacity: 0, attendeeCount: 7, waitlistCount: 0 });
        expect(await rsvpCounts(event.id)).toEqual({ attending: 7, waitlisted: 0 });
        expect(await noticeAt(event.id, 10)).toEqual({ e: event.id, v: 10, k: "updated" });
      });
    });

    describe("listing events", () => {
      it("orders by start time then id, pages by keyset and applies the time window", async () => {
        const organizerId = await newUser();
        const base = Date.now() + 10 * 24 * hour;
        const created = [];
        for (const offset of [3, 1, 2, 2, 2, 0]) {
          created.push(await newEvent(organizerId, { startsAt: new Date(base + offset * hour) }));
        }
        const expected = [...created]
          .sort((x, y) => x.startsAt.getTime() - y.startsAt.getTime() || (x.id < y.id ? -1 : 1))
          .map((e) => e.id);
        const query = { endsAfter: new Date(), organizerId, includeCancelled: false };
        expect((await stores.events.list({ ...query, limit: 50 })).map((e) => e.id)).toEqual(
          expected,
        );
        const paged: string[] = [];
        let after: { startsAt: Date; id: string } | undefined;
        for (let pages = 0; pages < 10; pages++) {
          const page = await stores.events.list({ ...query, after, limit: 2 });
          paged.push(...page.map((e) => e.id));
          const last = page.at(-1);
          if (page.length < 2 || !last) break;
          after = { startsAt: last.startsAt, id: last.id };
        }
        expect(paged).toEqual(expected);
        const window = await stores.events.list({
          ...query,
          endsAfter: new Date(base + 2.5 * hour),
          startsBefore: new Date(base + 2.5 * hour),
          limit: 50,
        });
        // Events from base+1h to base+2h end after base+2.5h (they last two hours) and start before it.
        expect(window.map((e) => e.id).sort()).toEqual(
          created
            .filter((e) => [1, 2].includes((e.startsAt.getTime() - base) / hour))
            .map((e) => e.id)
            .sort(),
        );
      });

      it("finds every word in title, description or address, literally", async () => {
        const organizerId = await newUser();
        // Ends in a letter, so that "0_x" below can only match through a wildcard.
        const tag = `${randomUUID().slice(0, 8)}q`;
        const byTitle = await newEvent(organizerId, {
          title: `Rust ${tag} night`,
          description: "systems",
        });
        const byAddress = await newEvent(organizerId, {
          title: "Meetup",
          description: `about ${tag}`,
          location: { kind: "address", address: "Rust Street 5" },
        });
        const online = await newEvent(organizerId, {
          title: "Online",
          description: tag,
          location: { kind: "online", url: "https://rust.example.com" },
        });
        const percent = await newEvent(organizerId, { title: `100% ${tag}_x`, description: "" });
        const search = (text: string) =>
          stores.events
            .list({ endsAfter: new Date(), organizerId, text, includeCancelled: false, limit: 50 })
            .then((rows) => rows.map((e) => e.id).sort());
        expect(await search(`rust ${tag.toUpperCase()}`)).toEqual(
          [byTitle.id, byAddress.id].sort(),
        );
        expect(await search(tag)).toEqual([byTitle.id, byAddress.id, online.id, percent.id].sort());
        expect(await search("100%")).toEqual([percent.id]);
        expect(await search("%")).toEqual([percent.id]);
        expect(await search(`${tag}_`)).toEqual([percent.id]);
        expect(await search("0_x")).toEqual([]);
        expect(await search(`rust nothing-${tag}`)).toEqual([]);
      });

      it("filters by the caller's relation", async () => {
        const [organizer, attendee] = (await newUsers(2)) as [string, string];
        const own = await newEvent(organizer);
        const other = await newEvent(await newUser());
        await stores.events.join(other.id, attendee);
        const list = (relation: { kind: "organizing" | "attending"; userId: string }) =>
          stores.events
            .list({ endsAfter: new Date(), relation, includeCancelled: false, limit: 50 })
            .then((rows) => rows.map((e) => e.id));
        expect(await list({ kind: "organizing", userId: organizer })).toEqual([own.id]);
        expect(await list({ kind: "attending", userId: attendee })).toEqual([other.id]);
        expect(await list({ kind: "attending", userId: organizer })).toEqual([]);
      });
    });

    describe("importing", () => {
      it("creates new rows, keeps known keys unchanged and rejects unknown organizers", async () => {
        const organizerId = await newUser();
        const source = `feed-${randomUUID()}`;
        const missing = randomUUID();
        const rows = [
          { key: "b", organizerId, details: details({ title: "B" }) },
          { key: "a", organizerId, details: details({ title: "A" }) },
          { key: "x", organizerId: missing, details: details() },
          { key: "a", organizerId, details: details({ title: "A again" }) },
        ];
        const outcomes = await stores.events.importBatch(source, rows);
        expect(outcomes.map((o) => o.kind)).toEqual([
          "created",
          "created",
          "rejected",
          "unchanged",
        ]);
        const [b, a, rejected, again] = outcomes;
        expect(rejected).toEqual({
          kind: "rejected",
          reason: expect.stringMatching(/USER_NOT_FOUND.*does not exist/),
        });
        expect(again).toEqual({
          kind: "unchanged",
          eventId: a?.kind === "created" ? a.eventId : "",
        });
        const eventB = b?.kind === "created" ? await stores.events.get(b.eventId) : undefined;
        expect(eventB).toMatchObject({ title: "B", organizerId });
        await noticeAt(eventB?.id ?? "", 1);

        const rerun = await stores.events.importBatch(source, rows);
        expect(rerun.map((o) => o.kind)).toEqual([
          "unchanged",
          "unchanged",
          "rejected",
          "unchanged",
        ]);
        expect(rerun.map((o) => ("eventId" in o ? o.eventId : undefined))).toEqual(
          outcomes.map((o) => ("eventId" in o ? o.eventId : undefined)),
        );
        // The same key from another source is another event.
        const elsewhere = await stores.events.importBatch(`${source}-2`, [
          rows[1] as (typeof rows)[number],
        ]);
        expect(elsewhere[0]?.kind).toBe("created");
        expect(await stores.events.importBatch(source, [])).toEqual([]);
      });

      it("creates each key once when overlapping batches race", async () => {
        const organizerId = await newUser();
        const source = `race-${randomUUID()}`;
        const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
        const batch = (order: string[]) =>
          order.map((key) => ({ key, organizerId, details: details({ title: key }) }));
        const results = await Promise.all([
          stores.events.importBatch(source, batch(keys)),
          stores.events.importBatch(source, batch([...keys].reverse())),
          stores.events.importBatch(source, batch(keys.filter((_, i) => i % 2 === 0))),
        ]);
        const created = results.flat().filter((o) => o.kind === "created");
        expect(created).toHaveLength(12);
        const idsOf = (outcomes: (typeof results)[number], order: string[]) =>
          Object.fromEntries(outcomes.map((o, i) => [order[i], "eventId" in o ? o.eventId : ""]));
        expect(idsOf(results[1] as (typeof results)[number], [...keys].reverse())).toEqual(
          idsOf(results[0] as (typeof results)[number], keys),
        );
        const [{ n }] = (await db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM events WHERE organizer_id = $1",
          [organizerId],
        )) as [{ n: number }];
        expect(n).toBe(12);
      });
    });

    if (engine.name === "postgres") {
      describe("PostgreSQL connections", () => {
        async function adminQuery<Row extends object>(
          sql: string,
          params: unknown[] = [],
        ): Promise<Row[]> {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          try {
            return (await client.query(sql, params)).rows as Row[];
          } finally {
            await client.end();
          }
        }

        it("keeps one LISTEN connection for all channels and reconnects after pg_terminate_backend", async () => {
          const received: string[] = [];
          let reconnects = 0;
          const stopA = await db.listen(
            "grouppe_test_a",
            (p) => received.push(`a:${p}`),
            () => reconnects++,
          );
          const stopB = await db.listen(
            "grouppe_test_b",
            (p) => received.push(`b:${p}`),
            () => reconnects++,
          );
          const listeners = () =>
            adminQuery<{ pid: number }>(
              "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'grouppe-listener'",
            );
          const [first, ...more] = await listeners();
          expect(first).toBeDefined();
          expect(more).toEqual([]);

          let pid = first?.pid;
          for (let round = 1; round <= 2; round++) {
            const [terminated] = await adminQuery<{ ok: boolean }>(
              "SELECT pg_terminate_backend($1) AS ok",
              [pid],
            );
            expect(terminated?.ok).toBe(true);
            // Every subscription hears that messages may have been lost.
            await eventually(() => reconnects === 2 * round, {
              what: `onReconnect of both subscriptions, round ${round}`,
            });
            await db.query(
              "SELECT pg_notify('grouppe_test_a', $1), pg_notify('grouppe_test_b', $1)",
              [`after ${round}`],
            );
            await eventually(
              () => received.includes(`a:after ${round}`) && received.includes(`b:after ${round}`),
              { what: `notices after reconnecting, round ${round}` },
            );
            const now = await listeners();
            expect(now).toHaveLength(1);
            expect(now[0]?.pid).not.toBe(pid);
            pid = now[0]?.pid;
          }
          // The store's own subscription came back too.
          const event = await newEvent(await newUser());
          await noticeAt(event.id, 1);
          await stopA();
          await stopB();
        });

        it("names its connections and bounds statement time", async () => {
          const [settings] = await db.query<{ name: string; timeout: string }>(
            "SELECT current_setting('application_name') AS name, current_setting('statement_timeout') AS timeout",
          );
          expect(settings).toEqual({ name: "grouppe", timeout: "30s" });
        });

        it("migrates once when two servers start at the same time", async () => {
          const fresh = await createTestDatabase();
          const [first, second] = await Promise.all([
            openPostgresDb({ url: fresh.url }),
            openPostgresDb({ url: fresh.url }),
          ]);
          try {
            await Promise.all([migrate(first), migrate(second), migrate(first)]);
            expect(
              await first.query("SELECT version FROM schema_migrations ORDER BY version"),
            ).toEqual(migrations.map((m) => ({ version: m.version })));
            await createStores(second).users.create({
              email: "a@example.com",
              displayName: "A",
              passwordHash: "h",
            });
          } finally {
            await Promise.all([first.close(), second.close()]);
            await fresh.drop();
          }
        });

        it("opens PostgreSQL through openDb when a URL is given", async () => {
          const opened = await openDb({ databaseUrl: url, dataDir: "/nonexistent" });
          try {
            expect(opened.kind).toBe("postgres");
            await opened.ping();
          } finally {
            await opened.close();
          }
        });
      });
    }
  });
}

describe("opening databases", () => {
  it("fails at once with the cause when PostgreSQL cannot be reached", async () => {
    await expect(
      openPostgresDb({ url: "postgres://postgres@127.0.0.1:1/grouppe" }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });

  it("keeps data in <dataDir>/pglite across restarts", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "grouppe-store-"));
    try {
      const first = await openDb({ dataDir: join(dataDir, "nested") });
      expect(first.kind).toBe("pglite");
      await migrate(first);
      const user = await createStores(first).users.create({
        email: "disk@example.com",
        displayName: "Disk",
        passwordHash: "h",
      });
      await first.close();
      expect(await readdir(join(dataDir, "nested"))).toEqual(["pglite"]);

      const second = await openDb({ dataDir: join(dataDir, "nested") });
      await migrate(second);
      expect(await createStores(second).users.get(user.id)).toEqual(user);
      await second.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
