import { Code } from "@connectrpc/connect";
import type { WatchEventsResponse } from "@grouppe/api";
import type { Logger } from "pino";
import { grouppeError } from "../errors.js";
import type { Db, Unlisten } from "../store/db.js";
import { parseChangeNotice } from "../store/parse-change-notice.js";
import { changeChannel, type EventRecord } from "../store/records.js";
import type { EventStore } from "../store/stores.js";
import type { Broker } from "./broker.js";
import {
  allEventsTopic,
  attendanceKey,
  type EventChange,
  eventChange,
  eventDeletedChange,
  feedChange,
  feedDeleted,
  feedResync,
} from "./live-messages.js";

/** What the change feed reads from and publishes to. */
export interface ChangeFeedDeps {
  db: Db;
  events: Pick<EventStore, "get">;
  eventBroker: Broker<EventChange>;
  feedBroker: Broker<WatchEventsResponse>;
  logger: Logger;
  /** Tracked events kept to drop stale notices; the oldest idle ones are forgotten past this. */
  trackLimit?: number;
  /** Waits between attempts to read a changed event; one attempt more than entries. */
  retryDelaysMs?: readonly number[];
}

/** The running change feed. */
export interface ChangeFeed {
  /** Resolves once every notice received so far has been published (or dropped). */
  idle(): Promise<void>;
  /** Stops listening and waits for reads in flight; publishes nothing afterwards. */
  close(): Promise<void>;
}

const kindBits = { created: 1, updated: 2, attendance: 4, cancelled: 8 } as const;
type LoadedKind = keyof typeof kindBits;

/** What the feed knows about one event that changed. */
interface Tracked {
  /** The highest version already published; notices at or below it are stale. */
  published: number;
  /** The highest version a notice announced. */
  announced: number;
  /** Bits of {@link kindBits} announced since the last read started. */
  kinds: number;
  /** Watchers need a snapshot because notices may have been missed. */
  snapshot: boolean;
  /** Something arrived since the last read started, so read again. */
  dirty: boolean;
  /** The state last published, to tell a cancellation from a later change. */
  lastState: EventRecord["state"] | undefined;
  deleted: boolean;
  loading: Promise<void> | undefined;
}

/**
 * Turns committed changes into live messages. Listens on {@link changeChannel}; reads each
 * changed event once per process however many watch it (notices for an event that arrive
 * while it is read are coalesced into one more read) and only while someone watches; drops
 * notices older than what was already published; and publishes ready-made responses to the
 * brokers. After the listener reconnects, every watched event gets a fresh snapshot and the
 * feed a resync, because notices sent in between are lost.
 */
export async function startChangeFeed(deps: ChangeFeedDeps): Promise<ChangeFeed> {
  const { events, eventBroker, feedBroker, logger } = deps;
  const trackLimit = deps.trackLimit ?? 10_000;
  const retryDelaysMs = deps.retryDelaysMs ?? [50, 250, 1_000];
  const tracked = new Map<string, Tracked>();
  const reading = new Set<Promise<void>>();
  let closed = false;

  function track(eventId: string): Tracked {
    let state = tracked.get(eventId);
    if (state) {
      // Re-inserting keeps the map in least-recently-changed order for forgetting.
      tracked.delete(eventId);
    } else {
      state = {
        published: 0,
        announced: 0,
        kinds: 0,
        snapshot: false,
        dirty: false,
        lastState: undefined,
        deleted: false,
        loading: undefined,
      };
    }
    tracked.set(eventId, state);
    if (tracked.size > trackLimit) forgetIdle();
    return state;
  }

  function forgetIdle(): void {
    for (const [eventId, state] of tracked) {
      if (tracked.size <= trackLimit) return;
      if (!state.loading) tracked.delete(eventId);
    }
  }

  function onNotice(payload: string): void {
    if (closed) return;
    const notice = parseChangeNotice(payload);
    if (!notice) {
      logger.warn({ payload: payload.slice(0, 200) }, "ignoring malformed change notice");
      return;
    }
    if (notice.k === "deleted") {
      publishDeleted(notice.e);
      return;
    }
    const watched =
      eventBroker.hasSubscribers(notice.e) || feedBroker.hasSubscribers(allEventsTopic);
    if (!watched) return;
    const state = track(notice.e);
    if (notice.v <= state.published) return;
    state.announced = Math.max(state.announced, notice.v);
    state.kinds |= kindBits[notice.k];
    requestRead(notice.e, state);
  }

  function publishDeleted(eventId: string): void {
    const state = tracked.get(eventId);
    if (state) {
      state.deleted = true;
      tracked.delete(eventId);
    }
    eventBroker.publish(eventId, eventDeletedChange(eventId));
    feedBroker.publish(allEventsTopic, feedDeleted(eventId));
  }

  function requestRead(eventId: string, state: Tracked): void {
    state.dirty = true;
    if (state.loading) return;
    const loading = readLoop(eventId, state)
      .catch((error: unknown) => {
        logger.error({ err: error, eventId }, "publishing a change failed; ending its watchers");
        interrupt(eventId);
      })
      .finally(() => {
        state.loading = undefined;
        reading.delete(loading);
      });
    state.loading = loading;
    reading.add(loading);
  }

  async function readLoop(eventId: string, state: Tracked): Promise<void> {
    while (state.dirty && !state.deleted && !closed) {
      state.dirty = false;
      const kinds = state.kinds;
      const snapshot = state.snapshot;
      const announced = state.announced;
      state.kinds = 0;
      state.snapshot = false;
      const read = await readEvent(eventId);
      if (state.deleted || closed) return;
      if (read === "failed") {
        interrupt(eventId);
        return;
      }
      if (read === undefined) {
        // Gone: a deletion notice follows, unless it was lost while the listener was away.
        if (snapshot) publishDeleted(eventId);
        return;
      }
      if (!snapshot && read.version <= state.published) continue;
      publish(eventId, read, { kinds, snapshot, unannounced: read.version > announced }, state);
      state.published = Math.max(state.published, read.version);
      state.lastState = read.state;
    }
  }

  function publish(
    eventId: string,
    record: EventRecord,
    batch: { kinds: number; snapshot: boolean; unannounced: boolean },
    state: Tracked,
  ): void {
    const has = (kind: LoadedKind) => (batch.kinds & kindBits[kind]) !== 0;
    // A read can see commits whose notices have not arrived yet; their kind is unknown, so
    // such a read is published as a whole event rather than as attendance only.
    const becameCancelled =
      has("cancelled") ||
      (batch.unannounced && record.state === "cancelled" && state.lastState !== "cancelled");
    const detailsChanged = has("updated") || has("created") || batch.unannounced;
    if (batch.snapshot) {
      eventBroker.publish(eventId, eventChange("snapshot", record));
    } else if (becameCancelled) {
      eventBroker.publish(eventId, eventChange("cancelled", record));
    } else if (detailsChanged) {
      eventBroker.publish(eventId, eventChange("updated", record));
    } else if (has("attendance")) {
      eventBroker.publish(eventId, eventChange("attendance", record), attendanceKey);
    }
    if (batch.kinds === 0 && !batch.unannounced) return;
    if (has("created")) {
      feedBroker.publish(allEventsTopic, feedChange("created", record));
    } else if (becameCancelled) {
      feedBroker.publish(allEventsTopic, feedChange("cancelled", record));
    } else {
      // Details and attendance both show as the whole event; only the latest matters.
      feedBroker.publish(allEventsTopic, feedChange("updated", record), eventId);
    }
  }

  async function readEvent(eventId: string): Promise<EventRecord | undefined | "failed"> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await events.get(eventId);
      } catch (error) {
        const delay = retryDelaysMs[attempt];
        if (delay === undefined || closed) {
          logger.error({ err: error, eventId }, "cannot read changed event; ending its watchers");
          return "failed";
        }
        logger.warn({ err: error, eventId, attempt }, "reading changed event failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /** A change could not be read: watchers of the event reconnect, feed watchers reload. */
  function interrupt(eventId: string): void {
    tracked.delete(eventId);
    eventBroker.endTopic(
      eventId,
      grouppeError(
        Code.Unavailable,
        "LIVE_UPDATES_INTERRUPTED",
        "live updates interrupted; watch again",
      ),
    );
    feedBroker.publish(allEventsTopic, feedResync());
  }

  function onReconnect(): void {
    if (closed) return;
    const watchedEvents = eventBroker.activeTopics();
    logger.warn(
      { watchedEvents: watchedEvents.length },
      "change listener reconnected; resending snapshots",
    );
    feedBroker.publish(allEventsTopic, feedResync());
    for (const eventId of watchedEvents) {
      const state = track(eventId);
      state.snapshot = true;
      requestRead(eventId, state);
    }
  }

  async function idle(): Promise<void> {
    // A read that finishes can start none, but a notice arriving meanwhile can: loop until quiet.
    while (reading.size > 0) await Promise.all(reading);
  }

  const unlisten: Unlisten = await deps.db.listen(changeChannel, onNotice, onReconnect);

  return {
    idle,
    async close() {
      if (closed) return;
      closed = true;
      await unlisten();
      await idle();
    },
  };
}
