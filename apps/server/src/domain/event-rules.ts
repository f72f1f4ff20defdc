import type { EventDetails } from "../store/records.js";
import { DomainError } from "./domain-error.js";

const knownZones = new Set(Intl.supportedValuesOf("timeZone"));
knownZones.add("UTC");

/** Rules protovalidate cannot express: a real IANA zone, and (for new events) a future start. */
export function checkEventDetails(
  details: Pick<EventDetails, "timeZone" | "startsAt">,
  options: { isNew: boolean; now?: Date },
): void {
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
