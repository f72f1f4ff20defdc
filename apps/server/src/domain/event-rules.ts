import type { EventDetails } from "../store/records.js";
import { DomainError } from "./domain-error.js";
import { isInTimeRange } from "./time-range.js";

const knownZones = new Set(Intl.supportedValuesOf("timeZone"));
knownZones.add("UTC");

/**
 * Rules protovalidate cannot express: times the API can carry, a real IANA zone, and (for new
 * events) a future start.
 */
export function checkEventDetails(
  details: Pick<EventDetails, "timeZone" | "startsAt" | "endsAt">,
  options: { isNew: boolean; now?: Date },
): void {
  for (const [field, time] of [
    ["starts_at", details.startsAt],
    ["ends_at", details.endsAt],
  ] as const) {
    if (!isInTimeRange(time)) {
      throw new DomainError(
        "TIMESTAMP_OUT_OF_RANGE",
        "must be a time from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z",
        field,
      );
    }
  }
  if (!knownZones.has(details.timeZone) && !isZoneAccepted(details.timeZone)) {
    throw new DomainError(
      "INVALID_TIME_ZONE",
      `"${details.timeZone}" is not an IANA time zone`,
      "time_zone",
    );
  }
  if (options.isNew && details.startsAt.getTime() <= (options.now ?? new Date()).getTime()) {
    throw new DomainError("EVENT_IN_PAST", "a new event must start in the future", "starts_at");
  }
}

/** Links and aliases (e.g. "Asia/Calcutta") are valid zones though not in the canonical list. */
function isZoneAccepted(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
