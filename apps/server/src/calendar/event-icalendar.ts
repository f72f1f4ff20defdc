import ical, { ICalCalendarMethod, ICalEventStatus } from "ical-generator";
import type { EventRecord } from "../store/records.js";

/** What an iCalendar file needs besides the events. */
export interface IcalendarOptions {
  /** The calendar's name, shown by calendar apps for a subscribed feed. */
  name: string;
  /** The web app's origin, e.g. "https://grouppe.example", for each event's link. */
  origin: string;
  /** How often subscribers should fetch the calendar again, in seconds; for feeds. */
  refreshSeconds?: number;
}

function describe(event: EventRecord, link: string): string {
  const lines = [event.description.trim(), `Hosted by ${event.organizerName}.`, link];
  if (event.state === "cancelled") {
    lines.unshift(
      event.cancelReason ? `Cancelled: ${event.cancelReason}` : "This event is cancelled.",
    );
  }
  return lines.filter((line) => line !== "").join("\n\n");
}

/**
 * Events as an iCalendar (RFC 5545) document. Times are written in UTC, which every calendar
 * app shows in its own zone; the event's zone is named in X-GROUPPE-TIME-ZONE. The UID is
 * stable and SEQUENCE follows the event's version, so an updated or cancelled event replaces
 * the copy a calendar already holds.
 */
export function eventsToIcalendar(
  events: readonly EventRecord[],
  options: IcalendarOptions,
): string {
  const calendar = ical({
    name: options.name,
    prodId: { company: "grouppe", product: "grouppe", language: "EN" },
    method: ICalCalendarMethod.PUBLISH,
    ttl: options.refreshSeconds ?? null,
  });
  for (const event of events) {
    const link = `${options.origin}/events/${event.id}`;
    calendar.createEvent({
      id: `${event.id}@grouppe`,
      sequence: event.version,
      start: event.startsAt,
      end: event.endsAt,
      stamp: event.updateTime,
      created: event.createTime,
      lastModified: event.updateTime,
      summary: event.title,
      description: describe(event, link),
      location: event.location.kind === "address" ? event.location.address : event.location.url,
      url: event.location.kind === "online" ? event.location.url : link,
      status: event.state === "cancelled" ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
      x: [{ key: "X-GROUPPE-TIME-ZONE", value: event.timeZone }],
    });
  }
  return calendar.toString();
}

/** A file name for an event's `.ics`: its title in safe characters. */
export function icsFileName(event: EventRecord): string {
  const base = event.title
    .normalize("NFKD")
    .replace(/[^\w\s-]/g, "")
    .trim()
    .replace(/\s+/g, "-")
    .slice(0, 60);
  return `${base || "event"}.ics`;
}
