import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type ImportEventsRequest, ImportEventsRequestSchema } from "@grouppe/api";

/** The columns (CSV) or keys (JSON lines) of an import row; snake_case or camelCase. */
export const importColumns = [
  "key",
  "title",
  "description",
  "starts_at",
  "ends_at",
  "time_zone",
  "address",
  "online_url",
  "capacity",
  "organizer_id",
] as const;

type Column = (typeof importColumns)[number];

const aliases: Record<string, Column> = {
  venue: "address",
  url: "online_url",
  organizer: "organizer_id",
};

/** The column a header names, whatever its case and separators; undefined when unknown. */
export function columnOf(name: string): Column | undefined {
  const folded = name
    .trim()
    .toLowerCase()
    .replace(/[\s_-]/g, "");
  const column = importColumns.find((candidate) => candidate.replaceAll("_", "") === folded);
  return column ?? aliases[folded];
}

/** One row's values by column. */
export type RowValues = Partial<Record<Column, string>>;

/** A row turned into a request, or the reason it cannot be. */
export type RowOutcome =
  | { ok: true; request: ImportEventsRequest }
  | { ok: false; key: string; reason: string };

function time(value: string | undefined, column: Column): Date | string {
  if (value === undefined || value.trim() === "") return `${column}: required`;
  const trimmed = value.trim();
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(ms)) {
    return `${column}: "${value}" is not an ISO 8601 date-time such as 2030-01-01T18:00:00Z`;
  }
  return new Date(ms);
}

/**
 * Builds the ImportEvents request for one row. Only what the CLI must understand to build the
 * message is checked here (times, numbers, the organizer); the event's rules are the server's
 * to check, so they stay in one place.
 */
export function rowToRequest(values: RowValues, defaultOrganizer: string | undefined): RowOutcome {
  // A row without a key is known by its content: importing the same file again matches it.
  const key =
    values.key?.trim() ||
    `sha256:${createHash("sha256").update(JSON.stringify(values)).digest("hex").slice(0, 40)}`;
  const startsAt = time(values.starts_at, "starts_at");
  if (typeof startsAt === "string") return { ok: false, key, reason: startsAt };
  const endsAt = time(values.ends_at, "ends_at");
  if (typeof endsAt === "string") return { ok: false, key, reason: endsAt };
  const capacityText = values.capacity?.trim() ?? "";
  if (capacityText !== "" && !/^\d+$/.test(capacityText)) {
    return { ok: false, key, reason: `capacity: "${values.capacity}" is not a whole number` };
  }
  const organizerId = values.organizer_id?.trim() || defaultOrganizer;
  if (organizerId === undefined) {
    return { ok: false, key, reason: "organizer_id: required (or pass --organizer)" };
  }
  const address = values.address?.trim() ?? "";
  const onlineUrl = values.online_url?.trim() ?? "";
  return {
    ok: true,
    request: create(ImportEventsRequestSchema, {
      key,
      organizerId,
      event: {
        title: values.title?.trim() ?? "",
        description: values.description ?? "",
        startsAt: timestampFromDate(startsAt),
        endsAt: timestampFromDate(endsAt),
        timeZone: values.time_zone?.trim() ?? "",
        location:
          address !== ""
            ? { kind: { case: "address", value: address } }
            : onlineUrl !== ""
              ? { kind: { case: "onlineUrl", value: onlineUrl } }
              : undefined,
        capacity: capacityText === "" ? 0 : Number(capacityText),
      },
    }),
  };
}
