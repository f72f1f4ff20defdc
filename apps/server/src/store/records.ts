/**
 * What the stores read and write: plain records, independent of protobuf. The services map
 * them to and from API messages.
 */

export type EventState = "scheduled" | "cancelled";
export type RsvpStatus = "attending" | "waitlisted";

/** A venue address or an online meeting URL. */
export type EventLocation = { kind: "address"; address: string } | { kind: "online"; url: string };

/** The fields of an event its organizer chooses. */
export interface EventDetails {
  title: string;
  description: string;
  startsAt: Date;
  endsAt: Date;
  timeZone: string;
  location: EventLocation;
  /** 0 means unlimited. */
  capacity: number;
}

export interface EventRecord extends EventDetails {
  id: string;
  organizerId: string;
  organizerName: string;
  state: EventState;
  cancelReason: string;
  attendeeCount: number;
  waitlistCount: number;
  createTime: Date;
  updateTime: Date;
  /** Bumped by every change, attendance included; the etag is derived from it. */
  version: number;
  /** The viewer's RSVP when the read named a viewer; undefined otherwise. */
  viewerRsvp?: RsvpStatus;
}

export interface AttendeeRecord {
  eventId: string;
  userId: string;
  displayName: string;
  status: RsvpStatus;
  /** 1-based place on the waitlist; 0 when attending. */
  waitlistPosition: number;
  joinTime: Date;
}

export interface UserRecord {
  id: string;
  email: string;
  displayName: string;
  createTime: Date;
}

/** Filters of ListEvents. Keyset pagination: `after` is the last row of the previous page. */
export interface EventQuery {
  endsAfter: Date;
  startsBefore?: Date;
  organizerId?: string;
  /** Words to find in title, description or address (case-insensitive, all must match). */
  text?: string;
  /** Only events the user organizes or RSVPed to. */
  relation?: { kind: "organizing" | "attending"; userId: string };
  includeCancelled: boolean;
  after?: { startsAt: Date; id: string };
  limit: number;
  viewerId?: string;
}

/** One row of ImportEvents, already validated. */
export interface ImportRow {
  key: string;
  organizerId: string;
  details: EventDetails;
}

export type ImportOutcome =
  | { kind: "created"; eventId: string }
  | { kind: "unchanged"; eventId: string }
  | { kind: "rejected"; reason: string };

/**
 * The NOTIFY payload every committed change to an event sends on {@link changeChannel}.
 * Small on purpose: listeners read what they need.
 */
export interface ChangeNotice {
  /** The event's id. */
  e: string;
  /** The event's version after the change (0 for deletions). */
  v: number;
  /** What changed. */
  k: "created" | "updated" | "attendance" | "cancelled" | "deleted";
}

export const changeChannel = "grouppe_changes";
