import type { Db } from "./db.js";
import { type EventRow, eventColumns, toEventRecord } from "./event-row.js";
import type { EventRecord } from "./records.js";

/** How far back a feed reaches, so a calendar keeps recent events without the whole history. */
const feedHistoryDays = 90;
/** The most events one feed lists; calendar apps poll feeds, so each read stays bounded. */
const feedEventLimit = 500;

/**
 * Private calendar feeds: one per user at most, stored as the hash of its token. Failures are
 * database errors only; an unknown token is simply `undefined`.
 */
export interface CalendarFeedStore {
  /** The user's feed, if they have one. */
  get(userId: string): Promise<{ createTime: Date } | undefined>;
  /** Stores a new token hash for the user; any earlier one stops matching. */
  replace(userId: string, tokenHash: string): Promise<{ createTime: Date }>;
  /** Removes the user's feed; nothing happens when there is none. */
  remove(userId: string): Promise<void>;
  /** Whose feed a token hash opens, or undefined. */
  ownerOf(tokenHash: string): Promise<string | undefined>;
  /**
   * The events the user is going to (a seat, not the waitlist), cancelled ones included so
   * calendar apps can mark them, from {@link feedHistoryDays} ago on, soonest first.
   */
  eventsAttending(userId: string): Promise<EventRecord[]>;
}

/** The {@link CalendarFeedStore} on either engine. */
export function createCalendarFeedStore(db: Db): CalendarFeedStore {
  return {
    async get(userId) {
      const [row] = await db.query<{ create_time: Date }>(
        "SELECT create_time FROM calendar_feeds WHERE user_id = $1",
        [userId],
      );
      return row ? { createTime: row.create_time } : undefined;
    },

    async replace(userId, tokenHash) {
      const [row] = await db.query<{ create_time: Date }>(
        `INSERT INTO calendar_feeds (user_id, token_hash, create_time) VALUES ($1, $2, now())
         ON CONFLICT (user_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, create_time = now()
         RETURNING create_time`,
        [userId, tokenHash],
      );
      if (!row) throw new Error("storing the calendar feed returned no row");
      return { createTime: row.create_time };
    },

    async remove(userId) {
      await db.query("DELETE FROM calendar_feeds WHERE user_id = $1", [userId]);
    },

    async ownerOf(tokenHash) {
      const [row] = await db.query<{ user_id: string }>(
        "SELECT user_id FROM calendar_feeds WHERE token_hash = $1",
        [tokenHash],
      );
      return row?.user_id;
    },

    async eventsAttending(userId) {
      const rows = await db.query<EventRow>(
        `SELECT ${eventColumns}, u.display_name AS organizer_name, r.status AS viewer_rsvp
         FROM rsvps r
         JOIN events e ON e.id = r.event_id
         JOIN users u ON u.id = e.organizer_id
         WHERE r.user_id = $1 AND r.status = 'attending'
           AND e.ends_at > now() - make_interval(days => $2)
         ORDER BY e.starts_at, e.id
         LIMIT $3`,
        [userId, feedHistoryDays, feedEventLimit],
      );
      return rows.map(toEventRecord);
    },
  };
}
