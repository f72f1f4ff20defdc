/** An event's time range written out for one time zone. */
export interface ZonedRange {
  /** E.g. "Sat, Mar 14, 2026, 6:00 – 9:00 PM". */
  text: string;
  /** The zone's short name at the start, e.g. "CET" or "GMT+1". */
  zoneName: string;
  /** The IANA zone, e.g. "Europe/Berlin". */
  timeZone: string;
}

/** When an event happens: in its own zone, and in the viewer's zone when that reads differently. */
export interface EventTimes {
  event: ZonedRange;
  /** Undefined when the viewer's clock shows the same times as the event's. */
  viewer: ZonedRange | undefined;
}

const rangeOptions: Intl.DateTimeFormatOptions = {
  weekday: "short",
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "numeric",
  minute: "2-digit",
};

function zoneName(date: Date, timeZone: string, locale: string | undefined): string {
  const parts = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: "short" }).formatToParts(
    date,
  );
  return parts.find((part) => part.type === "timeZoneName")?.value ?? timeZone;
}

/** A start and end written out in one zone, with the day shown once when both fall on it. */
export function formatRange(start: Date, end: Date, timeZone: string, locale?: string): ZonedRange {
  const format = new Intl.DateTimeFormat(locale, { ...rangeOptions, timeZone });
  return {
    text: format.formatRange(start, end),
    zoneName: zoneName(start, timeZone, locale),
    timeZone,
  };
}

/** The start alone, compact, for lists: "Sat, Mar 14, 6:00 PM". */
export function formatStart(start: Date, timeZone: string, locale?: string): string {
  const format = new Intl.DateTimeFormat(locale, {
    weekday: "short",
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZone,
  });
  return format.format(start);
}

/** An event's times in its own zone and, when they read differently, in the viewer's. */
export function describeEventTimes(
  start: Date,
  end: Date,
  eventTimeZone: string,
  viewerTimeZone: string,
  locale?: string,
): EventTimes {
  const event = formatRange(start, end, eventTimeZone, locale);
  const viewer = formatRange(start, end, viewerTimeZone, locale);
  const same = viewer.text === event.text && viewer.zoneName === event.zoneName;
  return { event, viewer: same || viewerTimeZone === eventTimeZone ? undefined : viewer };
}

/** A moment relative to now in words, e.g. "in 3 days" or "2 hours ago". */
export function formatRelative(date: Date, now: Date, locale?: string): string {
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ["day", 86_400],
    ["hour", 3_600],
    ["minute", 60],
  ];
  const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  }
  return format.format(0, "minute");
}

/** The place a zone is named after: "America/Argentina/Buenos_Aires" → "Buenos Aires". */
export function zoneCity(timeZone: string): string {
  return (timeZone.split("/").at(-1) ?? timeZone).replaceAll("_", " ");
}

/**
 * The start as the event's own clock shows it, to put beside the viewer's time in a list:
 * the time alone when both fall on the same date ("6:00 PM"), the date too when they don't,
 * and undefined when the two clocks read the same.
 */
export function eventClockBeside(
  start: Date,
  eventTimeZone: string,
  viewerTimeZone: string,
  locale?: string,
): string | undefined {
  const event = formatStart(start, eventTimeZone, locale);
  if (event === formatStart(start, viewerTimeZone, locale)) return undefined;
  const dateIn = (timeZone: string) =>
    new Intl.DateTimeFormat("en-CA", { dateStyle: "short", timeZone }).format(start);
  if (dateIn(eventTimeZone) !== dateIn(viewerTimeZone)) return event;
  return new Intl.DateTimeFormat(locale, {
    hour: "numeric",
    minute: "2-digit",
    timeZone: eventTimeZone,
  }).format(start);
}
