import type { Db, Unlisten } from "./db.js";
import { parseChangeNotice } from "./parse-change-notice.js";
import { changeChannel, type EventRecord } from "./records.js";
import type { EventStore } from "./stores.js";

/** An EventStore whose anonymous reads come from memory while nothing has changed. */
export interface CachedEventStore extends EventStore {
  /** Stops listening for changes; the store keeps working, uncached. */
  close(): Promise<void>;
}

/**
 * Keeps recently read events in memory, so that GetEvent and the organizer check of the
 * authorization table cost no database round trip while an event does not change.
 *
 * An entry is dropped when this process changes the event (right after the write) and when
 * any process commits a change (its NOTIFY on the change channel), and the whole cache is
 * dropped when the listener connection had to reconnect, since notices may have been missed.
 * A read that overlapped a change is not cached. So a reader sees another process's change at
 * most one notification later; this process's own changes at once.
 *
 * Reads for a signed-in viewer (their RSVP is part of the answer) and lists always go to the
 * database. The live-updates change feed must read through the store underneath, not this one.
 */
export async function cacheEventReads(
  store: EventStore,
  db: Db,
  options: { maxEntries?: number } = {},
): Promise<CachedEventStore> {
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, EventRecord>();
  /** Bumped by every change of an event; a read only caches when it saw no bump. */
  const generations = new Map<string, number>();
  let epoch = 0;

  const invalidate = (id: string): void => {
    entries.delete(id);
    generations.set(id, (generations.get(id) ?? 0) + 1);
    // Generations only matter while a read is in flight; keep the map from growing forever.
    if (generations.size > maxEntries * 4) drop();
  };

  const unlisten: Unlisten = await db.listen(
    changeChannel,
    (payload) => {
      const notice = parseChangeNotice(payload);
      // A notice we cannot read could name any event.
      if (notice) invalidate(notice.e);
      else drop();
    },
    () => drop(),
  );

  function drop(): void {
    entries.clear();
    generations.clear();
    epoch++;
  }

  async function read(id: string): Promise<EventRecord | undefined> {
    const cached = entries.get(id);
    if (cached) {
      // Refresh its place: the map's order is the eviction order.
      entries.delete(id);
      entries.set(id, cached);
      return cached;
    }
    const startEpoch = epoch;
    const startGeneration = generations.get(id) ?? 0;
    const record = await store.get(id);
    if (record && epoch === startEpoch && (generations.get(id) ?? 0) === startGeneration) {
      entries.set(id, record);
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
    }
    return record;
  }

  /** Runs a write, then forgets the events it touched, also when it failed half-way. */
  async function writing<T>(ids: readonly string[], write: Promise<T>): Promise<T> {
    try {
      return await write;
    } finally {
      for (const id of ids) invalidate(id);
    }
  }

  return {
    create: (input) => store.create(input),
    get: (id, viewerId) => (viewerId === undefined ? read(id) : store.get(id, viewerId)),
    organizerOf: async (id) => (await read(id))?.organizerId,
    list: (query) => store.list(query),
    update: (id, patch, expectedVersion) => writing([id], store.update(id, patch, expectedVersion)),
    cancel: (id, reason, expectedVersion) =>
      writing([id], store.cancel(id, reason, expectedVersion)),
    delete: (id, expectedVersion) => writing([id], store.delete(id, expectedVersion)),
    join: (eventId, userId) => writing([eventId], store.join(eventId, userId)),
    leave: (eventId, userId) => writing([eventId], store.leave(eventId, userId)),
    listAttendees: (eventId, page) => store.listAttendees(eventId, page),
    importBatch: (source, rows) => store.importBatch(source, rows),
    close: () => unlisten(),
  };
}
