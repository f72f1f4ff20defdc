import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import { type Attendee, type Event, EventState, RsvpStatus } from "@grouppe/api";
import Table from "cli-table3";

// Plain borders and no colours: the output is read in terminals, logs and pipes alike.
const plain = { head: [], border: [] };

/** A table with a header row, as text. */
export function table(head: string[], rows: string[][]): string {
  const output = new Table({ head, style: plain });
  output.push(...rows);
  return output.toString();
}

/** A two-column table of labels and values, as text. */
export function details(rows: [string, string][]): string {
  const output = new Table({ style: plain });
  for (const [label, value] of rows) output.push({ [label]: value });
  return output.toString();
}

const localTime = new Intl.DateTimeFormat("sv-SE", {
  dateStyle: "short",
  timeStyle: "short",
});

/** A time in the reader's own time zone, e.g. "2030-01-01 19:00". */
export function formatTime(time: Timestamp | undefined): string {
  return time === undefined ? "" : localTime.format(timestampDate(time));
}

export function formatWhere(event: Event): string {
  const kind = event.location?.kind;
  return kind?.case === "address" || kind?.case === "onlineUrl" ? kind.value : "";
}

export function formatSeats(event: Event): string {
  const seats =
    event.capacity > 0
      ? `${event.attendeeCount}/${event.capacity}`
      : `${event.attendeeCount}/unlimited`;
  return event.waitlistCount > 0 ? `${seats} (+${event.waitlistCount} waiting)` : seats;
}

export function formatState(state: EventState): string {
  return state === EventState.CANCELLED ? "cancelled" : "scheduled";
}

export function formatRsvp(status: RsvpStatus): string {
  switch (status) {
    case RsvpStatus.ATTENDING:
      return "attending";
    case RsvpStatus.WAITLISTED:
      return "waitlisted";
    default:
      return "";
  }
}

/** The rows `events list` shows. */
export function eventsTable(events: Event[]): string {
  return table(
    ["ID", "TITLE", "STARTS", "WHERE", "SEATS", "STATE"],
    events.map((event) => [
      event.id,
      event.title,
      formatTime(event.startsAt),
      formatWhere(event),
      formatSeats(event),
      formatState(event.state),
    ]),
  );
}

/** Everything about one event, as `events get` shows it. */
export function eventDetails(event: Event): string {
  const rows: [string, string][] = [
    ["id", event.id],
    ["title", event.title],
    ["starts", `${formatTime(event.startsAt)} (event time zone ${event.timeZone})`],
    ["ends", formatTime(event.endsAt)],
    ["where", formatWhere(event)],
    ["seats", formatSeats(event)],
    ["organizer", event.organizer?.displayName ?? ""],
    ["state", formatState(event.state)],
    ["etag", event.etag],
  ];
  if (event.description !== "") rows.splice(2, 0, ["description", event.description]);
  if (event.cancelReason !== "") rows.push(["cancel reason", event.cancelReason]);
  const rsvp = formatRsvp(event.viewerRsvp);
  if (rsvp !== "") rows.push(["your RSVP", rsvp]);
  return details(rows);
}

export function attendeesTable(attendees: Attendee[]): string {
  return table(
    ["NAME", "USER ID", "STATUS", "SINCE"],
    attendees.map((attendee) => [
      attendee.person?.displayName ?? "",
      attendee.person?.userId ?? "",
      attendee.waitlistPosition > 0
        ? `waitlisted #${attendee.waitlistPosition}`
        : formatRsvp(attendee.status),
      formatTime(attendee.joinTime),
    ]),
  );
}
