/**
 * Wall-clock times in a named IANA time zone, as `<input type="datetime-local">` reads and
 * writes them ("2026-03-14T18:30"). The browser's Intl data knows every zone's rules; this
 * module only turns its answers into instants and back.
 */

const wallTimePattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

const partFormatters = new Map<string, Intl.DateTimeFormat>();

function partFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = partFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    partFormatters.set(timeZone, formatter);
  }
  return formatter;
}

interface WallParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallParts(instantMs: number, timeZone: string): WallParts {
  const parts = partFormatter(timeZone).formatToParts(new Date(instantMs));
  const value = (type: Intl.DateTimeFormatPartTypes) =>
    Number(parts.find((part) => part.type === type)?.value ?? Number.NaN);
  return {
    year: value("year"),
    month: value("month"),
    day: value("day"),
    hour: value("hour"),
    minute: value("minute"),
    second: value("second"),
  };
}

function utcOf(parts: WallParts): number {
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
}

/** How far the zone's wall clock is ahead of UTC at an instant, in milliseconds. */
export function zoneOffsetMs(instantMs: number, timeZone: string): number {
  const wholeSecond = Math.floor(instantMs / 1000) * 1000;
  return utcOf(wallParts(wholeSecond, timeZone)) - wholeSecond;
}

/** Whether the browser knows the zone. */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    partFormatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * The instant a wall-clock time names in a zone, or undefined when the text is not a wall time
 * or the zone is unknown. A time the clocks skip (spring forward) lands after the gap; a time
 * they repeat (fall back) is its first occurrence.
 */
export function wallTimeToDate(wallTime: string, timeZone: string): Date | undefined {
  const match = wallTimePattern.exec(wallTime);
  if (!match || !isKnownTimeZone(timeZone)) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0));
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(wall);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23)
    return undefined;
  // The offset at `wall - offset(wall)` is right unless a transition lies in between; trying
  // the offsets just before and after the wall time covers both sides of any transition.
  const candidates = [
    wall - zoneOffsetMs(wall - 86_400_000, timeZone),
    wall - zoneOffsetMs(wall + 86_400_000, timeZone),
  ].sort((a, b) => a - b);
  for (const instant of candidates) {
    if (instant + zoneOffsetMs(instant, timeZone) === wall) return new Date(instant);
  }
  // In a gap: no instant shows this wall time, so move forward by the gap's length.
  const later = candidates[1] ?? wall;
  return new Date(later);
}

/** The wall-clock time of an instant in a zone, as datetime-local text ("2026-03-14T18:30"). */
export function dateToWallTime(date: Date, timeZone: string): string {
  const parts = wallParts(date.getTime(), timeZone);
  const pad = (value: number, length = 2) => String(value).padStart(length, "0");
  return `${pad(parts.year, 4)}-${pad(parts.month)}-${pad(parts.day)}T${pad(parts.hour)}:${pad(parts.minute)}`;
}

/** The zone the viewer's browser is set to. */
export function viewerTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** Every zone the browser knows, for a time zone picker, with UTC and `extra` included. */
export function timeZoneChoices(extra: readonly string[] = []): string[] {
  const known =
    typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return [...new Set(["UTC", ...known, ...extra.filter((zone) => zone !== "")])].sort((a, b) =>
    a === "UTC" ? -1 : b === "UTC" ? 1 : a.localeCompare(b),
  );
}
