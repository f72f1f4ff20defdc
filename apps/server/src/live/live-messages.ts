import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import {
  type WatchEventResponse,
  WatchEventResponseSchema,
  type WatchEventsResponse,
  WatchEventsResponseSchema,
} from "@grouppe/api";
import { shareEncoding } from "@grouppe/engine";
import { etagOf, toEventMessage } from "../services/event-message.js";
import type { EventRecord } from "../store/records.js";

/**
 * What the broker carries for one event's watchers: the response every watcher sends as is,
 * and the event version it reflects, so each watcher can skip what its snapshot already shows.
 * Events in live messages carry no viewer_rsvp: one message is shared by all watchers, and
 * marked with `shareEncoding`, so the engine encodes it once per wire format and writes the
 * same bytes to every watcher's stream. Nothing changes a live message after it is built.
 */
export interface EventChange {
  /** The event's version this message reflects; 0 when it has none (heartbeat, deletion). */
  version: number;
  response: WatchEventResponse;
}

/** The broker topic of the WatchEvents feed; event topics are event ids (UUIDs). */
export const allEventsTopic = "*";

/** Conflation key of attendance changes on an event topic. */
export const attendanceKey = "attendance";

/** Conflation key of heartbeats, so an unread heartbeat is never queued twice. */
export const heartbeatKey = "heartbeat";

/** The kinds of event messages the change feed publishes. */
export type EventChangeKind = "snapshot" | "updated" | "cancelled" | "attendance";

/** An event-topic message built from a freshly read record. */
export function eventChange(kind: EventChangeKind, record: EventRecord): EventChange {
  const response =
    kind === "attendance"
      ? create(WatchEventResponseSchema, {
          change: {
            case: "attendance",
            value: {
              eventId: record.id,
              attendeeCount: record.attendeeCount,
              waitlistCount: record.waitlistCount,
              etag: etagOf(record.version),
            },
          },
        })
      : create(WatchEventResponseSchema, { change: { case: kind, value: toEventMessage(record) } });
  return { version: record.version, response: shareEncoding(response) };
}

/** The event-topic message that ends every watcher of a deleted event. */
export function eventDeletedChange(eventId: string): EventChange {
  return {
    version: 0,
    response: shareEncoding(
      create(WatchEventResponseSchema, { change: { case: "deleted", value: { eventId } } }),
    ),
  };
}

/** A WatchEvent heartbeat stamped with the current time. */
export function eventHeartbeat(): EventChange {
  return {
    version: 0,
    response: create(WatchEventResponseSchema, {
      change: { case: "heartbeat", value: { time: timestampNow() } },
    }),
  };
}

/** The kinds of feed messages built from a record. */
export type FeedChangeKind = "created" | "updated" | "cancelled";

/** A WatchEvents message built from a freshly read record. */
export function feedChange(kind: FeedChangeKind, record: EventRecord): WatchEventsResponse {
  return shareEncoding(
    create(WatchEventsResponseSchema, { change: { case: kind, value: toEventMessage(record) } }),
  );
}

/** The WatchEvents message for a deleted event. */
export function feedDeleted(eventId: string): WatchEventsResponse {
  return shareEncoding(
    create(WatchEventsResponseSchema, { change: { case: "deleted", value: { eventId } } }),
  );
}

/** Tells feed watchers that changes may have been missed and they should reload. */
export function feedResync(): WatchEventsResponse {
  return shareEncoding(
    create(WatchEventsResponseSchema, { change: { case: "resync", value: {} } }),
  );
}

/** A WatchEvents heartbeat stamped with the current time. */
export function feedHeartbeat(): WatchEventsResponse {
  return create(WatchEventsResponseSchema, {
    change: { case: "heartbeat", value: { time: timestampNow() } },
  });
}
