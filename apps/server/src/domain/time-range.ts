/**
 * The times the API can carry: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z, the
 * range of RFC 3339 and so of google.protobuf.Timestamp in JSON. A stored time outside it
 * could not be written to JSON clients.
 */
export const timestampMinSeconds = -62_135_596_800n;
export const timestampMaxSeconds = 253_402_300_799n;

/** The same range in milliseconds, for code that holds a Date. */
export const timestampMinMs = Number(timestampMinSeconds) * 1000;
export const timestampMaxMs = Number(timestampMaxSeconds) * 1000 + 999;

/** Whether a Date (or epoch milliseconds) lies within the API's range; NaN does not. */
export function isInTimeRange(time: Date | number): boolean {
  const ms = typeof time === "number" ? time : time.getTime();
  return Number.isInteger(ms) && ms >= timestampMinMs && ms <= timestampMaxMs;
}

/**
 * A stored time as the API can carry it: times outside the range (rows written before requests
 * were range-checked, or PostgreSQL's `infinity`) are shown at the nearest end of the range
 * instead of failing every read of the row; the stored value stays as it is.
 */
export function clampToTimeRange(time: Date | number): Date {
  const ms = typeof time === "number" ? time : time.getTime();
  if (ms >= timestampMinMs && ms <= timestampMaxMs)
    return typeof time === "number" ? new Date(ms) : time;
  if (ms > timestampMaxMs) return new Date(timestampMaxMs);
  // Below the range, and NaN (an unreadable time) too: the earliest time is the harmless end.
  return new Date(timestampMinMs);
}
