import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError } from "commander";

/** Parses a whole number flag; commander turns the error into a usage error (exit 2). */
export function parseCount(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError("expected a whole number.");
  return Number(value);
}

/** Parses a positive number of milliseconds. */
export function parseMs(value: string): number {
  const ms = parseCount(value);
  if (ms <= 0) throw new InvalidArgumentError("expected a number of milliseconds above 0.");
  return ms;
}

/**
 * Parses an ISO 8601 date-time. Without an offset ("2030-01-01T18:00") it is the reader's local
 * time, as people type it.
 */
export function parseTime(value: string): Timestamp {
  const trimmed = value.trim();
  const ms = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(
    trimmed,
  )
    ? Date.parse(trimmed.length === 10 ? `${trimmed}T00:00` : trimmed.replace(" ", "T"))
    : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new InvalidArgumentError(`"${value}" is not a date-time; use e.g. 2030-01-01T18:00:00Z.`);
  }
  return timestampFromDate(new Date(ms));
}
