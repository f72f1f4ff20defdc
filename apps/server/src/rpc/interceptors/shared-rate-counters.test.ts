import { postgresAvailable } from "@grouppe/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMigratedTestDatabase,
  type MigratedTestDatabase,
} from "../../../test/support/migrated-database.js";
import type { Db } from "../../store/db.js";
import { SharedRateCounters } from "./shared-rate-counters.js";

const available = await postgresAvailable();
const unavailable = "skip" in available ? available.skip : null;
if (unavailable) console.warn(`skipping the shared rate counter tests: ${unavailable}`);

const windowMs = 60_000;
const windowStart = Date.UTC(2030, 0, 1);

describe.skipIf(unavailable !== null)("shared rate counters", () => {
  let database: MigratedTestDatabase;
  let db: Db;
  let queries = 0;
  const clock = { now: windowStart };

  beforeAll(async () => {
    database = await createMigratedTestDatabase();
    db = database.db;
  });

  afterAll(async () => {
    await database?.drop();
  });

  /** One server process's counters, on the shared database and the test's clock. */
  function instance(): SharedRateCounters {
    const counting = {
      query: <Row extends object>(sql: string, params?: readonly unknown[]) => {
        queries += 1;
        return db.query<Row>(sql, params);
      },
    };
    return new SharedRateCounters({
      db: counting,
      tableName: "grouppe_rate_limits",
      windowMs,
      now: () => clock.now,
    });
  }

  function admitted(counters: SharedRateCounters, key: string, limit: number, calls: number) {
    let count = 0;
    for (let i = 0; i < calls; i++) if (counters.take(key, limit) === undefined) count += 1;
    return count;
  }

  it("decides every call in memory and shares the counts in one statement per sync", async () => {
    clock.now = windowStart + 1_000;
    const a = instance();
    const before = queries;
    expect(admitted(a, "user:q", 1000, 500)).toBe(500);
    expect(queries - before).toBe(0);
    await a.sync();
    expect(queries - before).toBe(1);
    const [row] = await db.query<{ points: number }>(
      "SELECT points FROM grouppe_rate_limits WHERE key = 'user:q'",
    );
    expect(row?.points).toBe(500);
  });

  it("holds a limit across two instances once each has synced", async () => {
    clock.now = windowStart + 2_000;
    const a = instance();
    const b = instance();
    expect(admitted(a, "user:alice", 10, 6)).toBe(6);
    await a.sync();
    await b.sync(); // b learns nothing yet: it has not seen the key
    expect(admitted(b, "user:alice", 10, 10)).toBe(10);
    await b.sync(); // 16 now: b admitted its 10 before it knew of a's 6
    expect(b.take("user:alice", 10)).toBeGreaterThan(0);
    await a.sync();
    const refusal = a.take("user:alice", 10);
    expect(refusal).toBe(windowMs - 2_000);
  });

  it("overshoots by at most the calls other instances admit between two syncs", async () => {
    clock.now = windowStart + 3_000;
    const instances = [instance(), instance(), instance()];
    const limit = 100;
    const perInstancePerSync = 4;
    // Everyone has the key once, so syncs read back the others' counts.
    let total = 0;
    for (const counters of instances) total += admitted(counters, "ip:203.0.113.9", limit, 1);
    for (const counters of instances) await counters.sync();
    for (let round = 0; round < 40; round++) {
      for (const counters of instances) {
        total += admitted(counters, "ip:203.0.113.9", limit, perInstancePerSync);
      }
      for (const counters of instances) await counters.sync();
    }
    expect(total).toBeGreaterThanOrEqual(limit);
    expect(total).toBeLessThanOrEqual(limit + (instances.length - 1) * perInstancePerSync);
  });

  it("starts every window from zero, on every instance", async () => {
    clock.now = windowStart + 4_000;
    const a = instance();
    const b = instance();
    expect(admitted(a, "user:carol", 3, 5)).toBe(3);
    await a.sync();
    expect(admitted(b, "user:carol", 3, 1)).toBe(1);
    await b.sync();
    expect(b.take("user:carol", 3)).toBeGreaterThan(0);
    clock.now = windowStart + windowMs + 10;
    expect(admitted(a, "user:carol", 3, 1)).toBe(1);
    await a.sync();
    expect(admitted(b, "user:carol", 3, 1)).toBe(1);
    await b.sync();
    const [row] = await db.query<{ points: number; expire: number }>(
      "SELECT points, expire FROM grouppe_rate_limits WHERE key = 'user:carol'",
    );
    expect(row).toEqual({ points: 2, expire: windowStart + 2 * windowMs });
    expect(admitted(b, "user:carol", 3, 5)).toBe(1);
  });

  it("keeps counting in memory while the database is unreachable, and sends the counts later", async () => {
    clock.now = windowStart + 2 * windowMs + 5_000;
    let broken = true;
    const flaky = new SharedRateCounters({
      db: {
        query: <Row extends object>(sql: string, params?: readonly unknown[]) =>
          broken ? Promise.reject(new Error("connection refused")) : db.query<Row>(sql, params),
      },
      tableName: "grouppe_rate_limits",
      windowMs,
      now: () => clock.now,
    });
    expect(admitted(flaky, "user:dave", 5, 3)).toBe(3);
    await expect(flaky.sync()).rejects.toThrow("connection refused");
    expect(admitted(flaky, "user:dave", 5, 5)).toBe(2);
    broken = false;
    await flaky.sync();
    const [row] = await db.query<{ points: number }>(
      "SELECT points FROM grouppe_rate_limits WHERE key = 'user:dave'",
    );
    expect(row?.points).toBe(5);
  });
});
