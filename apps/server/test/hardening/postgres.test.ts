/**
 * The hardening battery on PostgreSQL: the real server (in this process) talks to a throwaway
 * database through a TCP proxy the test controls. PostgreSQL going away mid-load is answered
 * UNAVAILABLE, never INTERNAL, and the server recovers by itself when it is back; rows stored
 * with times outside the API's range (before requests were range-checked) are still readable.
 * After every case the same checks as the main battery: a canary call, no uncaught error,
 * descriptors and heap back near the baseline.
 */
import http2 from "node:http2";
import { createTestDatabase, eventually, postgresAvailable } from "@grouppe/testkit";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../src/testing/index.js";
import { eventInput } from "../support/event-input.js";
import { expectBackNearBaseline, ownResources, type Resources } from "./resources.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";
import { envelope, h1, type RawAnswer } from "./wire.js";

const available = await postgresAvailable();
const skip = "skip" in available ? available.skip : undefined;

const listEvents = "/grouppe.v1.EventService/ListEvents";
const resourceSlack: Resources = { fds: 20, heapBytes: 32 * 2 ** 20 };

let server: TestServer;
let proxy: TcpProxy;
let database: { url: string; drop(): Promise<void> };
let sql: pg.Client;
let token = "";
let eventId = "";
let baseline: Resources;
let errorLinesBefore = 0;
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);

function errorLines(): string[] {
  return server.logs.filter((line) => /"level":(50|60)/.test(line));
}

/** The Connect code of an answer ("ok" for 200). */
function codeOf(answer: RawAnswer): string {
  if (answer.status === 200) return "ok";
  try {
    return (JSON.parse(answer.body.toString("utf8")) as { code: string }).code;
  } catch {
    return `http ${answer.status}`;
  }
}

async function call(path: string, body: unknown, headers: Record<string, string> = {}) {
  return h1(server.baseUrl, {
    path,
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

function eventJson(title = "Svelte meetup") {
  const event = eventInput();
  return {
    title,
    startsAt: new Date(Number(event.startsAt?.seconds) * 1000).toISOString(),
    endsAt: new Date(Number(event.endsAt?.seconds) * 1000).toISOString(),
    timeZone: event.timeZone,
    location: { address: "Hafenstrasse 1, Hamburg" },
    capacity: 10,
  };
}

/** Every event, paged one at a time over Connect JSON: each page's code, and the events. */
async function everyEvent(): Promise<{ codes: string[]; events: Record<string, string>[] }> {
  const codes: string[] = [];
  const events: Record<string, string>[] = [];
  let pageToken = "";
  do {
    const answer = await call(listEvents, {
      endsAfter: "0001-01-01T00:00:00Z",
      includeCancelled: true,
      pageSize: 1,
      pageToken,
    });
    codes.push(codeOf(answer));
    if (answer.status !== 200) break;
    const page = JSON.parse(answer.body.toString("utf8")) as {
      events?: Record<string, string>[];
      nextPageToken?: string;
    };
    events.push(...(page.events ?? []));
    pageToken = page.nextPageToken ?? "";
  } while (pageToken !== "");
  return { codes, events };
}

/**
 * A WatchEvent stream over Connect JSON on HTTP/2: the messages as they arrive (JSON objects,
 * the end-of-stream one included) and how to cancel it.
 */
function watchJson(id: string) {
  const session = http2.connect(server.baseUrl);
  session.on("error", () => undefined);
  const stream = session.request({
    ":method": "POST",
    ":path": "/grouppe.v1.EventService/WatchEvent",
    "content-type": "application/connect+json",
  });
  const messages: { flags: number; json: Record<string, unknown> }[] = [];
  let pending: Buffer = Buffer.alloc(0);
  stream.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
      const length = pending.readUInt32BE(1);
      messages.push({
        flags: pending[0] ?? 0,
        json: JSON.parse(pending.subarray(5, 5 + length).toString("utf8")),
      });
      pending = pending.subarray(5 + length);
    }
  });
  stream.on("error", () => undefined);
  stream.end(envelope(Buffer.from(JSON.stringify({ id }))));
  return {
    messages,
    close() {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      session.destroy();
    },
  };
}

beforeAll(async () => {
  if (skip) return;
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUncaught);
  database = await createTestDatabase();
  const url = new URL(database.url);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  const proxied = new URL(database.url);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(proxy.port);
  // The server migrates the empty database itself, through the proxy.
  server = await startTestServer({ DATABASE_URL: proxied.toString() });
  sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  const signUp = await call("/grouppe.v1.AuthService/SignUp", {
    email: "ada@example.com",
    password: "correct horse",
    displayName: "Ada",
  });
  token = (JSON.parse(signUp.body.toString()) as { session: { accessToken: string } }).session
    .accessToken;
  const created = await call("/grouppe.v1.EventService/CreateEvent", { event: eventJson() });
  expect(created.status).toBe(200);
  eventId = (JSON.parse(created.body.toString()) as { event: { id: string } }).event.id;
  errorLinesBefore = errorLines().length;
  baseline = await ownResources();
}, 120_000);

afterEach(async ({ task }) => {
  if (skip) return;
  // The canary, on a new connection: the server reads the database again.
  const canary = await call(listEvents, {});
  expect(codeOf(canary)).toBe("ok");
  expect(errorLines().slice(errorLinesBefore)).toEqual([]);
  expect(uncaught).toEqual([]);
  await expectBackNearBaseline(baseline, ownResources, resourceSlack, {
    what: `resources after "${task.name}"`,
  });
});

afterAll(async () => {
  process.off("uncaughtException", onUncaught);
  process.off("unhandledRejection", onUncaught);
  await server?.close();
  await sql?.end();
  await proxy?.close();
  await database?.drop();
});

describe.skipIf(skip)("PostgreSQL going away", () => {
  it("answers UNAVAILABLE before the deadline while it is gone, and recovers by itself", async () => {
    const watcher = watchJson(eventId);
    const deadlineMs = 3_000;
    const answers: { code: string; ms: number; phase: "before" | "cut" | "after" }[] = [];
    let phase: "before" | "cut" | "after" = "before";
    let running = true;
    // Four clients calling without pause: a read and a write each round.
    const load = Array.from({ length: 4 }, async (_, worker) => {
      for (let round = 0; running; round++) {
        const started = { phase, at: performance.now() };
        const answer =
          round % 2 === 0
            ? await call(listEvents, {}, { "connect-timeout-ms": String(deadlineMs) })
            : await call(
                "/grouppe.v1.EventService/JoinEvent",
                { eventId },
                { "connect-timeout-ms": String(deadlineMs) },
              );
        // A call counts for the phase it started in and ended in alike.
        const ended = phase;
        answers.push({
          code: codeOf(answer),
          ms: performance.now() - started.at,
          phase: started.phase === ended ? ended : "cut",
        });
        if (worker === 0 && round % 50 === 49) await new Promise(setImmediate);
      }
    });
    try {
      await eventually(() => watcher.messages.length >= 1, { what: "the watch snapshot" });
      await eventually(() => answers.filter((a) => a.phase === "before").length >= 20, {
        what: "calls before the cut",
      });
      phase = "cut";
      await proxy.cut();
      const cutAt = answers.length;
      await eventually(() => answers.length - cutAt >= 40, { what: "calls while cut" });
      phase = "after";
      await proxy.restore();
      // Recovery needs nobody: calls succeed again on their own.
      await eventually(
        () => answers.filter((a) => a.phase === "after" && a.code === "ok").length >= 20,
        { what: "calls succeeding after the restore", timeoutMs: 30_000 },
      );
      running = false;
      await Promise.all(load);
      const codes = (which: string) =>
        [...new Set(answers.filter((a) => a.phase === which).map((a) => a.code))].sort();
      expect(codes("before")).toEqual(["ok"]);
      // While it is gone: UNAVAILABLE (retry later), never INTERNAL or UNKNOWN.
      const whileCut = answers.slice(cutAt).filter((a) => a.phase === "cut");
      expect(whileCut.length).toBeGreaterThan(0);
      expect(whileCut.filter((a) => a.code !== "ok" && a.code !== "unavailable")).toEqual([]);
      expect(whileCut.filter((a) => a.code === "unavailable").length).toBeGreaterThan(0);
      expect(Math.max(...whileCut.map((a) => a.ms))).toBeLessThan(deadlineMs);

      // Live updates resume: a rename after the restore reaches a watcher, the one from before
      // the outage (told to watch again if it was cut) or a new one.
      const renamed = `Renamed after the outage ${Date.now()}`;
      const update = await call("/grouppe.v1.EventService/UpdateEvent", {
        event: { id: eventId, title: renamed },
        updateMask: "title",
      });
      expect(codeOf(update)).toBe("ok");
      const fresh = watchJson(eventId);
      try {
        const sees = (messages: typeof watcher.messages) =>
          messages.some((m) => JSON.stringify(m.json).includes(renamed));
        await eventually(() => sees(fresh.messages), { what: "the rename on a new watcher" });
        const endOfOld = watcher.messages.find((m) => m.flags & 0x02);
        if (endOfOld) {
          expect(JSON.stringify(endOfOld.json)).toContain('"unavailable"');
        } else {
          await eventually(() => sees(watcher.messages), {
            what: "the rename on the watcher from before the outage",
          });
        }
        const rename2 = `${renamed}, again`;
        await call("/grouppe.v1.EventService/UpdateEvent", {
          event: { id: eventId, title: rename2 },
          updateMask: "title",
        });
        await eventually(
          () => fresh.messages.some((m) => JSON.stringify(m.json).includes(rename2)),
          { what: "a later change on the new watcher (LISTEN is back)" },
        );
      } finally {
        fresh.close();
      }
    } finally {
      running = false;
      await proxy.restore();
      await Promise.allSettled(load);
      watcher.close();
      // Connection loss is logged at error level by the pool and the listener: expected here,
      // and nothing else may be among them.
      const outage = errorLines().slice(errorLinesBefore);
      expect(
        outage.filter((line) => !/"msg":"(database: |cannot read changed event)/.test(line)),
      ).toEqual([]);
      errorLinesBefore = errorLines().length;
    }
  }, 60_000);
});

describe.skipIf(skip)("times stored before range checks", () => {
  it("reads events with out-of-range times over Connect JSON and WatchEvent, without losing them", async () => {
    // Rows as an older version let them in: copies of a real event at year 10000 and in 44 BC.
    const ids: string[] = [];
    for (const [startsAt, endsAt] of [
      ["10000-01-01 00:00:00+00", "10000-01-01 02:00:00+00"],
      ["10000-06-01 00:00:00+00", "10000-06-01 02:00:00+00"],
      ["0044-03-15 12:00:00+00 BC", "0044-03-15 13:00:00+00 BC"],
    ]) {
      const { rows } = await sql.query<{ id: string }>(
        `INSERT INTO events (id, organizer_id, title, description, starts_at, ends_at, time_zone,
           location_kind, location_value, capacity, create_time, update_time)
         SELECT gen_random_uuid(), organizer_id, 'Far away ' || $2, description, $2::timestamptz,
           $3::timestamptz, time_zone, location_kind, location_value, capacity, now(), now()
         FROM events WHERE id = $1 RETURNING id`,
        [eventId, startsAt, endsAt],
      );
      ids.push(rows[0]?.id ?? "");
    }
    try {
      // Paged one by one, so a page also ends on such an event and its token must work.
      const { codes, events } = await everyEvent();
      expect(codes.filter((code) => code !== "ok")).toEqual([]);
      // Shown at the end of the range the wire can carry. (The one in 44 BC ended before
      // any time a listing can ask about; GetEvent and WatchEvent read it below.)
      const far = events.filter((e) => ids.includes(e.id ?? ""));
      expect(far.map((e) => e.id).sort()).toEqual(ids.slice(0, 2).sort());
      expect(far.map((e) => e.startsAt)).toEqual([
        "9999-12-31T23:59:59.999Z",
        "9999-12-31T23:59:59.999Z",
      ]);
      const bc = await call("/grouppe.v1.EventService/GetEvent", { id: ids[2] });
      expect(codeOf(bc)).toBe("ok");
      expect(bc.body.toString()).toContain('"startsAt":"0001-01-01T00:00:00Z"');
      // The stored values are untouched.
      const { rows } = await sql.query<{ year: number }>(
        "SELECT extract(year FROM starts_at AT TIME ZONE 'UTC')::int AS year FROM events WHERE id = ANY($1) ORDER BY 1",
        [ids],
      );
      expect(rows.map((r) => r.year)).toEqual([-44, 10000, 10000]);

      for (const id of ids) {
        const watcher = watchJson(id);
        try {
          await eventually(() => watcher.messages.length >= 1, { what: `the snapshot of ${id}` });
          const [first] = watcher.messages;
          expect(first?.flags, JSON.stringify(first?.json)).toBe(0);
          expect(JSON.stringify(first?.json)).toContain(id);
        } finally {
          watcher.close();
        }
      }
    } finally {
      await sql.query("DELETE FROM events WHERE id = ANY($1)", [ids]);
    }
  });
});
