import type { EventLocation, EventRecord, EventState, RsvpStatus } from "./records.js";

/** An events row joined with its organizer's name and, optionally, the viewer's RSVP. */
export interface EventRow {
  id: string;
  organizer_id: string;
  organizer_name: string;
  title: string;
  description: string;
  starts_at: Date;
  ends_at: Date;
  time_zone: string;
  location_kind: "address" | "online";
  location_value: string;
  capacity: number;
  attendee_count: number;
  waitlist_count: number;
  state: EventState;
  cancel_reason: string;
  version: number | string;
  create_time: Date;
  update_time: Date;
  viewer_rsvp: RsvpStatus | null;
}

/** The events columns an {@link EventRow} needs, for a table aliased `e`. */
export const eventColumns = `e.id, e.organizer_id, e.title, e.description, e.starts_at, e.ends_at, e.time_zone,
  e.location_kind, e.location_value, e.capacity, e.attendee_count, e.waitlist_count, e.state,
  e.cancel_reason, e.version, e.create_time, e.update_time`;

/** The value and kind columns of a location. */
export function locationColumns(location: EventLocation): { kind: string; value: string } {
  return location.kind === "address"
    ? { kind: "address", value: location.address }
    : { kind: "online", value: location.url };
}

/** Maps a row to the record the services see. */
export function toEventRecord(row: EventRow): EventRecord {
  const location: EventLocation =
    row.location_kind === "address"
      ? { kind: "address", address: row.location_value }
      : { kind: "online", url: row.location_value };
  return {
    id: row.id,
    organizerId: row.organizer_id,
    organizerName: row.organizer_name,
    title: row.title,
    description: row.description,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    timeZone: row.time_zone,
    location,
    capacity: row.capacity,
    attendeeCount: row.attendee_count,
    waitlistCount: row.waitlist_count,
    state: row.state,
    cancelReason: row.cancel_reason,
    createTime: row.create_time,
    updateTime: row.update_time,
    version: Number(row.version),
    viewerRsvp: row.viewer_rsvp ?? undefined,
  };
}
