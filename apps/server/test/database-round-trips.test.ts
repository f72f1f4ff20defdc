import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { EventService } from "@grouppe/api";
import { Health, HealthCheckResponse_ServingStatus } from "@grouppe/api/health";
import { createTestDatabase, eventually, postgresAvailable } from "@grouppe/testkit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from "vitest";
import { parseChangeNotice } from "../src/store/parse-change-notice.js";
import { changeChannel } from "../src/store/records.js";
import { startTestServer, type TestServer } from "../src/testing/index.js";
import { eventInput } from "./support/event-input.js";
import { signUp } from "./support/sign-up.js";

/** The events whose change notices the database has delivered to a connection of the test's. */
interface Notices {
  seen: Set<string>;
  close(): Promise<void>;
}

async function listenForNotices(url: string): Promise<Notices> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const seen = new Set<string>();
  client.on("notification", ({ payload }) => {
    const notice = parseChangeNotice(payload ?? "");
    if (notice) seen.add(notice.e);
  });
  await client.query(`LISTEN ${changeChannel}`);
  return { seen, close: () => client.end() };
}

/**
 * Reads the event until a read makes no query: the cache has it, and knows its latest change.
 * First the create's change notice must have come back (to the test's own listener, and so, by
 * the time the next call reaches the server, to the server's): a read that filled the cache
 * before the notice came would be dropped by it, and the next read would query again.
 */
async function cacheWarm(
  events: Client<typeof EventService>,
  id: string,
  queries: MockInstance,
  notices: Notices,
): Promise<void> {
  await eventually(() => notices.seen.has(id), { what: "the create's change notice" });
  await eventually(
    async () => {
      queries.mockClear();
      await events.getEvent({ id });
      return queries.mock.calls.length === 0;
    },
    { what: "GetEvent from a warm cache" },
  );
}

const available = await postgresAvailable();
const skip = "skip" in available ? available.skip : undefined;
if (skip) console.warn(`database-round-trips: skipped: ${skip}`);

describe.skipIf(skip !== undefined)("calls that read no data, on PostgreSQL", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: TestServer | undefined;
  let notices: Notices;

  beforeAll(async () => {
    database = await createTestDatabase();
    notices = await listenForNotices(database.url);
    server = await startTestServer({
      DATABASE_URL: database.url,
      // Rate limits on: low enough that each call really is counted, high enough for the test.
      GROUPPE_RATE_LIMIT_USER: "1000",
      GROUPPE_RATE_LIMIT_IP: "1000",
      // The background work (sharing rate-limit counts, re-reading the key ring) is not what is
      // measured here; pushed out of the test's way, only the calls themselves could query.
      GROUPPE_RATE_LIMIT_SYNC_MS: "3600000",
      GROUPPE_SIGNING_KEY_RELOAD_MS: "3600000",
    });
  }, 120_000);

  afterAll(async () => {
    await notices?.close();
    await server?.close();
    await database?.drop();
  });

  it("answers Health/Check, anonymous or signed in, and a cached GetEvent without a query", async () => {
    if (!server) throw new Error("no server");
    const transport = createGrpcTransport({ baseUrl: server.baseUrl });
    const signedIn = await signUp(transport, "Quiet");
    const health = createClient(Health, transport);
    const events = createClient(EventService, transport);
    const { event } = await events.createEvent({ event: eventInput() }, signedIn);
    const id = event?.id ?? "";
    // Every statement of every pooled or listening connection goes through Client#query.
    const queries = vi.spyOn(pg.Client.prototype, "query");
    try {
      // A signed-in viewer's GetEvent reads their RSVP; an anonymous one is served from the
      // cache, once the create's change notice has come back and a read has filled it.
      await cacheWarm(events, id, queries, notices);
      queries.mockClear();
      for (let i = 0; i < 20; i++) {
        expect((await health.check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
        expect((await health.check({}, signedIn)).status).toBe(
          HealthCheckResponse_ServingStatus.SERVING,
        );
        expect((await events.getEvent({ id })).event?.id).toBe(id);
      }
      // The LISTEN connection's liveness probe and the cached readiness check run `SELECT 1` on
      // their own clocks, whatever the calls do; any other statement came from a call.
      const fromCalls = queries.mock.calls
        .map(([sql]) => String(sql))
        .filter((sql) => sql !== "SELECT 1");
      expect(fromCalls).toEqual([]);
    } finally {
      queries.mockRestore();
    }
  });

  it("answers an anonymous GetEvent from the warm cache with the event as changed, at once", async () => {
    if (!server) throw new Error("no server");
    const transport = createGrpcTransport({ baseUrl: server.baseUrl });
    const organizer = await signUp(transport, "Editor");
    const events = createClient(EventService, transport);
    const { event } = await events.createEvent({ event: eventInput() }, organizer);
    const id = event?.id ?? "";
    const queries = vi.spyOn(pg.Client.prototype, "query");
    try {
      await cacheWarm(events, id, queries, notices);
    } finally {
      queries.mockRestore();
    }
    const before = (await events.getEvent({ id })).event;
    for (const title of ["Renamed once", "Renamed twice"]) {
      const current = (await events.getEvent({ id })).event;
      await events.updateEvent(
        { event: { id, title, etag: current?.etag }, updateMask: { paths: ["title"] } },
        organizer,
      );
      // Twice: the first read after the change refills the cache, the second comes from it.
      for (let i = 0; i < 2; i++) {
        const after = (await events.getEvent({ id })).event;
        expect(after?.title).toBe(title);
        expect(after?.etag).not.toBe(before?.etag);
      }
    }
  });
});
