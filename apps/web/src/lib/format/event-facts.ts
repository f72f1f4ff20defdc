import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type Event, EventState, RsvpStatus } from "@grouppe/api";

/** Seats still free, or undefined when the event has no limit. */
export function seatsLeft(event: Event): number | undefined {
  if (event.capacity <= 0) return undefined;
  return Math.max(0, event.capacity - event.attendeeCount);
}

/** Whether a new RSVP would join the waitlist. */
export function isFull(event: Event): boolean {
  return seatsLeft(event) === 0;
}

/** Whether the organizer called the event off. */
export function isCancelled(event: Event): boolean {
  return event.state === EventState.CANCELLED;
}

/** Whether the event is over at `now`. */
export function hasEnded(event: Event, now: Date = new Date()): boolean {
  return event.endsAt !== undefined && timestampDate(event.endsAt) <= now;
}

/** "1 person" / "3 people". */
export function people(count: number): string {
  return `${count.toLocaleString()} ${count === 1 ? "person" : "people"}`;
}

/** The attendance line of an event, e.g. "12 going · 3 on the waitlist · 8 seats left". */
export function attendanceSummary(event: Event): string {
  const parts = [`${event.attendeeCount.toLocaleString()} going`];
  if (event.waitlistCount > 0)
    parts.push(`${event.waitlistCount.toLocaleString()} on the waitlist`);
  const left = seatsLeft(event);
  if (left === undefined) parts.push("no seat limit");
  else if (left === 0) parts.push("full");
  else parts.push(`${left.toLocaleString()} ${left === 1 ? "seat" : "seats"} left`);
  return parts.join(" · ");
}

/** The viewer's own standing in words, or undefined without an RSVP. */
export function rsvpLabel(status: RsvpStatus): string | undefined {
  switch (status) {
    case RsvpStatus.ATTENDING:
      return "You're going";
    case RsvpStatus.WAITLISTED:
      return "You're on the waitlist";
    default:
      return undefined;
  }
}

/** Where the event happens, in one short line. */
export function placeLabel(event: Event): string {
  const kind = event.location?.kind;
  if (kind?.case === "address") return kind.value;
  if (kind?.case === "onlineUrl") return "Online";
  return "Place to be announced";
}
