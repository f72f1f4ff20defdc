import type { Queryable } from "../../store/db.js";

/** One key's count in the current window, as this process knows it. */
interface Counter {
  /** Start of the fixed window (epoch ms) these numbers belong to. */
  windowStart: number;
  /** Every process's points in the window, as the database said at the last sync. */
  synced: number;
  /** Points this process counted since, not yet sent. */
  pending: number;
  /** Points on their way to the database right now. */
  sending: number;
}

export interface SharedRateCountersOptions {
  db: Queryable;
  /** The table of migration 0003 (key, points, expire in epoch ms). */
  tableName: string;
  windowMs: number;
  /** For tests: the clock. */
  now?: () => number;
}

/** How long a window's rows stay after it ended before the cleanup deletes them. */
const rowRetentionMs = 60 * 60_000;

/**
 * Rate-limit counters that every process shares through PostgreSQL without a database round
 * trip per call: each call is counted in memory and decided against the last known total of
 * all processes; {@link sync} (run in the background, about once a second) adds this process's
 * new points to the shared row in one statement for all keys and reads back the totals.
 *
 * Counting is per fixed window (aligned to `windowMs` on every process). The limit holds across
 * processes up to what they admit between two syncs: with N processes, a caller can exceed a
 * limit by at most what it gets through the other N-1 processes within one sync interval, and
 * by at most (N-1) x limit in the worst case of a burst that reaches every process before the
 * first sync of a window.
 */
export class SharedRateCounters {
  readonly #counters = new Map<string, Counter>();
  readonly #options: SharedRateCountersOptions;
  readonly #now: () => number;
  #syncing: Promise<void> | undefined;
  #lastCleanup: number;

  constructor(options: SharedRateCountersOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#lastCleanup = this.#now();
  }

  #windowStart(now: number): number {
    return Math.floor(now / this.#options.windowMs) * this.#options.windowMs;
  }

  /**
   * Counts one call for `key` if it stays within `limit`: undefined when it may go ahead,
   * otherwise the milliseconds until the window ends.
   */
  take(key: string, limit: number): number | undefined {
    const now = this.#now();
    const windowStart = this.#windowStart(now);
    let counter = this.#counters.get(key);
    if (counter === undefined || counter.windowStart !== windowStart) {
      counter = { windowStart, synced: 0, pending: 0, sending: 0 };
      this.#counters.set(key, counter);
    }
    if (counter.synced + counter.sending + counter.pending >= limit) {
      return windowStart + this.#options.windowMs - now;
    }
    counter.pending += 1;
    return undefined;
  }

  /**
   * Sends the points counted since the last sync and learns every process's totals, for all
   * keys of the current window in one statement. Keys of windows that ended are forgotten.
   * Concurrent calls share one sync.
   */
  sync(): Promise<void> {
    this.#syncing ??= this.#sync().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  async #sync(): Promise<void> {
    const now = this.#now();
    const windowStart = this.#windowStart(now);
    const expire = windowStart + this.#options.windowMs;
    const batch: [string, Counter, number][] = [];
    for (const [key, counter] of this.#counters) {
      if (counter.windowStart !== windowStart) {
        this.#counters.delete(key);
        continue;
      }
      // Keys with nothing new are read too: other processes may have counted them.
      batch.push([key, counter, counter.pending]);
      counter.sending += counter.pending;
      counter.pending = 0;
    }
    if (batch.length > 0) {
      try {
        const rows = await this.#options.db.query<{ key: string; points: number; expire: number }>(
          `INSERT INTO ${this.#options.tableName} AS t (key, points, expire)
           SELECT key, points, $3::bigint FROM unnest($1::text[], $2::int[]) AS u (key, points)
           ON CONFLICT (key) DO UPDATE SET
             points = CASE WHEN t.expire IS NULL OR t.expire < excluded.expire THEN excluded.points
                           WHEN t.expire = excluded.expire THEN t.points + excluded.points
                           ELSE t.points END,
             expire = GREATEST(t.expire, excluded.expire)
           RETURNING key, points, expire`,
          [batch.map(([key]) => key), batch.map(([, , points]) => points), expire],
        );
        // A row already in a later window (a process whose clock runs ahead) says nothing
        // about this one.
        const totals = new Map(
          rows
            .filter((row) => Number(row.expire) === expire)
            .map((row) => [row.key, Number(row.points)]),
        );
        for (const [key, counter, sent] of batch) {
          counter.sending -= sent;
          if (counter.windowStart === windowStart)
            counter.synced = totals.get(key) ?? counter.synced + sent;
        }
      } catch (error) {
        // Not sent: count them again next time, so no call goes uncounted.
        for (const [, counter, sent] of batch) {
          counter.sending -= sent;
          counter.pending += sent;
        }
        throw error;
      }
    }
    if (now - this.#lastCleanup >= this.#options.windowMs * 5) {
      this.#lastCleanup = now;
      await this.#options.db.query(`DELETE FROM ${this.#options.tableName} WHERE expire < $1`, [
        now - rowRetentionMs,
      ]);
    }
  }
}
