import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type Attendee,
  AttendeeSchema,
  type Event,
  EventSchema,
  EventState,
  type Location,
  LocationSchema,
  RsvpStatus,
} from "@grouppe/api";
import { clampToTimeRange } from "../domain/time-range.js";
import type { AttendeeRecord, EventDetails, EventLocation, EventRecord } from "../store/records.js";

/** The etag clients send back: opaque to them, the event's version to us. */
export function etagOf(version: number): string {
  return `v${version}`;
}

/** The version an etag names, or undefined when the etag is empty or not one of ours. */
export function versionOfEtag(etag: string): number | undefined {
  const match = /^v(\d{1,15})$/.exec(etag);
  return match ? Number(match[1]) : undefined;
}

const rsvpStatus = { attending: RsvpStatus.ATTENDING, waitlisted: RsvpStatus.WAITLISTED } as const;

export function toLocationMessage(location: EventLocation): Location {
  return create(LocationSchema, {
    kind:
      location.kind === "address"
        ? { case: "address", value: location.address }
        : { case: "onlineUrl", value: location.url },
  });
}

/** A time read from the database, as a Timestamp every wire format can carry. */
function storedTime(time: Date): ReturnType<typeof timestampFromDate> {
  return timestampFromDate(clampToTimeRange(time));
}

/** An event record as the API shows it. */
export function toEventMessage(record: EventRecord): Event {
  return create(EventSchema, {
    id: record.id,
    title: record.title,
    description: record.description,
    startsAt: storedTime(record.startsAt),
    endsAt: storedTime(record.endsAt),
    timeZone: record.timeZone,
    location: toLocationMessage(record.location),
    capacity: record.capacity,
    attendeeCount: record.attendeeCount,
    waitlistCount: record.waitlistCount,
    organizer: { userId: record.organizerId, displayName: record.organizerName },
    state: record.state === "cancelled" ? EventState.CANCELLED : EventState.SCHEDULED,
    cancelReason: record.cancelReason,
    createTime: storedTime(record.createTime),
    updateTime: storedTime(record.updateTime),
    etag: etagOf(record.version),
    viewerRsvp: record.viewerRsvp ? rsvpStatus[record.viewerRsvp] : RsvpStatus.UNSPECIFIED,
  });
}

export function toAttendeeMessage(record: AttendeeRecord): Attendee {
  return create(AttendeeSchema, {
    person: { userId: record.userId, displayName: record.displayName },
    status: rsvpStatus[record.status],
    waitlistPosition: record.waitlistPosition,
    joinTime: storedTime(record.joinTime),
  });
}

/**
 * The organizer-chosen fields of an event message. Call only on a message that passed the
 * Event rules: they guarantee the times and the location are present.
 */
export function toEventDetails(event: Event): EventDetails {
  const { startsAt, endsAt, location } = event;
  if (!startsAt || !endsAt || !location || location.kind.case === undefined) {
    throw new Error("toEventDetails needs a validated event");
  }
  return {
    title: event.title,
    description: event.description,
    startsAt: timestampDate(startsAt),
    endsAt: timestampDate(endsAt),
    timeZone: event.timeZone,
    location:
      location.kind.case === "address"
        ? { kind: "address", address: location.kind.value }
        : { kind: "online", url: location.kind.value },
    capacity: event.capacity,
  };
}
