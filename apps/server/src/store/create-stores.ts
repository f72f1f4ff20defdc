import { createCalendarFeedStore } from "./calendar-feed-store.js";
import type { Db } from "./db.js";
import { createEventStore } from "./event-store.js";
import { createSessionStore } from "./session-store.js";
import type { Stores } from "./stores.js";
import { createUserStore } from "./user-store.js";

/** Every store, on one database. Run {@link migrate} first. */
export function createStores(db: Db): Stores {
  return {
    events: createEventStore(db),
    users: createUserStore(db),
    sessions: createSessionStore(db),
    calendarFeeds: createCalendarFeedStore(db),
  };
}
