import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { ImportEventsRequest } from "@grouppe/api";
import { type CsvError, parse } from "csv-parse";
import { CliError } from "../cli-error.js";
import { ExitCode } from "../exit-codes.js";
import { columnOf, type RowValues, rowToRequest } from "./row-to-request.js";

/** One row of an import file: ready to send, or rejected here with a reason. */
export type FileRow =
  | { kind: "row"; line: number; bytes: number; request: ImportEventsRequest }
  | { kind: "invalid"; line: number; bytes: number; key: string; reason: string };

/** The formats `grouppe import` reads, by file extension unless --format says. */
export type ImportFormat = "csv" | "jsonl";

export function formatOf(path: string, format: string | undefined): ImportFormat {
  const chosen = format ?? (/\.(jsonl|ndjson)$/i.test(path) ? "jsonl" : "csv");
  if (chosen !== "csv" && chosen !== "jsonl") {
    throw new CliError(`--format ${chosen}: use csv or jsonl`, ExitCode.usage);
  }
  return chosen;
}

/**
 * Reads an import file row by row without holding it in memory: the next chunk is read only
 * when the rows before it have been taken, so a slow server slows the reading down.
 */
export function readRows(
  path: string,
  format: ImportFormat,
  defaultOrganizer: string | undefined,
): AsyncGenerator<FileRow> {
  return format === "csv" ? readCsv(path, defaultOrganizer) : readJsonLines(path, defaultOrganizer);
}

async function* readCsv(
  path: string,
  defaultOrganizer: string | undefined,
): AsyncGenerator<FileRow> {
  const parser = createReadStream(path).pipe(
    parse({ info: true, bom: true, skip_empty_lines: true, skip_records_with_error: true }),
  );
  // Malformed records (an unclosed quote) are skipped by the parser and reported here.
  const skipped: FileRow[] = [];
  parser.on("skip", (error: CsvError & { lines?: number }) => {
    skipped.push({
      kind: "invalid",
      line: error.lines ?? 0,
      bytes: 0,
      key: "",
      reason: `not valid CSV: ${error.message}`,
    });
  });
  let columns: (ReturnType<typeof columnOf> | undefined)[] | undefined;
  for await (const { record, info } of parser as AsyncIterable<{
    record: string[];
    info: { lines: number; bytes: number };
  }>) {
    yield* skipped.splice(0);
    if (columns === undefined) {
      columns = record.map((name) => columnOf(name));
      const unknown = record.filter((_, index) => columns?.[index] === undefined);
      if (unknown.length > 0) {
        throw new CliError(
          `${path}: unknown column ${unknown.map((name) => `"${name}"`).join(", ")}; the columns are key, title, description, starts_at, ends_at, time_zone, address, online_url, capacity, organizer_id`,
          ExitCode.usage,
        );
      }
      if (!columns.includes("organizer_id") && defaultOrganizer === undefined) {
        throw new CliError(
          `${path} has no organizer_id column: pass --organizer <user-id>, or sign in (grouppe login)`,
          ExitCode.usage,
        );
      }
      continue;
    }
    const { lines: line, bytes } = info;
    if (record.length !== columns.length) {
      yield {
        kind: "invalid",
        line,
        bytes,
        key: "",
        reason: `${record.length} fields where the header has ${columns.length}`,
      };
      continue;
    }
    const values: RowValues = {};
    record.forEach((value, index) => {
      const column = columns?.[index];
      if (column !== undefined) values[column] = value;
    });
    const outcome = rowToRequest(values, defaultOrganizer);
    yield outcome.ok
      ? { kind: "row", line, bytes, request: outcome.request }
      : { kind: "invalid", line, bytes, key: outcome.key, reason: outcome.reason };
  }
  yield* skipped.splice(0);
}

async function* readJsonLines(
  path: string,
  defaultOrganizer: string | undefined,
): AsyncGenerator<FileRow> {
  const lines = createInterface({
    input: createReadStream(path),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let line = 0;
  let bytes = 0;
  for await (const text of lines) {
    line++;
    bytes += Buffer.byteLength(text) + 1;
    if (text.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      yield {
        kind: "invalid",
        line,
        bytes,
        key: "",
        reason: `not JSON: ${(error as Error).message}`,
      };
      continue;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      yield { kind: "invalid", line, bytes, key: "", reason: "not a JSON object" };
      continue;
    }
    const values: RowValues = {};
    for (const [name, value] of Object.entries(parsed)) {
      const column = columnOf(name);
      if (column !== undefined && value !== null && value !== undefined) {
        values[column] = String(value);
      }
    }
    const outcome = rowToRequest(values, defaultOrganizer);
    yield outcome.ok
      ? { kind: "row", line, bytes, request: outcome.request }
      : { kind: "invalid", line, bytes, key: outcome.key, reason: outcome.reason };
  }
}
