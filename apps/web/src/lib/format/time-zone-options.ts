import { timeZoneChoices, zoneOffsetMs } from "./zoned-time.js";

/** One choice in the time zone picker. */
export interface TimeZoneOption {
  /** The IANA zone, e.g. "Europe/Berlin". */
  zone: string;
  /** The zone's offset from UTC at the moment the picker is about, in minutes. */
  offsetMinutes: number;
  /** "UTC+01:00", "UTC−05:00" (a real minus sign), "UTC±00:00". */
  offset: string;
  /** The zone written for people: "Europe/Berlin" → "Europe/Berlin", underscores as spaces. */
  name: string;
  /** The zone's long name where the browser knows one, e.g. "Central European Summer Time". */
  longName: string;
  /** Whether this is the zone the browser is set to. */
  isViewerZone: boolean;
  /** Lower-case text a search matches against. */
  search: string;
}

/** An offset in minutes as "UTC+05:30" (display) and the plain forms people type. */
function offsetTexts(minutes: number): { display: string; plain: string[] } {
  const sign = minutes > 0 ? "+" : minutes < 0 ? "-" : "+";
  const hours = Math.floor(Math.abs(minutes) / 60);
  const rest = Math.abs(minutes) % 60;
  const hh = String(hours).padStart(2, "0");
  const mm = String(rest).padStart(2, "0");
  const display = minutes === 0 ? "UTC±00:00" : `UTC${minutes < 0 ? "\u2212" : "+"}${hh}:${mm}`;
  const short = rest === 0 ? `${sign}${hours}` : `${sign}${hours}:${mm}`;
  return {
    display,
    plain: [`utc${sign}${hh}:${mm}`, `utc${short}`, `gmt${short}`, `${sign}${hh}:${mm}`, short],
  };
}

function longNameOf(zone: string, at: Date): string {
  try {
    const parts = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      timeZoneName: "long",
    }).formatToParts(at);
    return parts.find((part) => part.type === "timeZoneName")?.value ?? "";
  } catch {
    return "";
  }
}

/** One zone as a picker option, its offset taken at `at`. */
export function timeZoneOption(zone: string, viewerZone: string, at: Date): TimeZoneOption {
  const offsetMinutes = Math.round(zoneOffsetMs(at.getTime(), zone) / 60_000);
  const { display, plain } = offsetTexts(offsetMinutes);
  const name = zone.replaceAll("_", " ");
  const longName = longNameOf(zone, at);
  return {
    zone,
    offsetMinutes,
    offset: display,
    name,
    longName,
    isViewerZone: zone === viewerZone,
    search: [zone, name, longName, ...plain].join(" ").toLowerCase(),
  };
}

/**
 * Every zone the browser knows as picker options, offsets as they are at `at` (the event's
 * start: daylight saving may differ from today): the viewer's own zone first, then UTC, then
 * the rest from the westmost offset to the eastmost, by name within an offset.
 */
export function timeZoneOptions(
  viewerZone: string,
  at: Date,
  extra: readonly string[] = [],
): TimeZoneOption[] {
  const options = timeZoneChoices([viewerZone, ...extra]).map((zone) =>
    timeZoneOption(zone, viewerZone, at),
  );
  const rank = (option: TimeZoneOption) =>
    option.isViewerZone ? 0 : option.zone === "UTC" ? 1 : 2;
  return options.sort(
    (a, b) =>
      rank(a) - rank(b) || a.offsetMinutes - b.offsetMinutes || a.zone.localeCompare(b.zone),
  );
}

/** The options whose text holds every word of `query` (any case), in their order. */
export function filterTimeZones(
  options: readonly TimeZoneOption[],
  query: string,
): TimeZoneOption[] {
  const words = query
    .toLowerCase()
    .replaceAll("\u2212", "-")
    .replaceAll("_", " ")
    .split(/\s+/)
    .filter(Boolean);
  if (words.length === 0) return [...options];
  return options.filter((option) => words.every((word) => option.search.includes(word)));
}
