import { stat } from "node:fs/promises";
import { createContextValues } from "@connectrpc/connect";
import { withoutDefaultDeadline } from "@grouppe/client";
import type { Command } from "commander";
import { CliError } from "../cli-error.js";
import type { CommandContext } from "../command-context.js";
import { loadCredentials } from "../credentials.js";
import { ExitCode } from "../exit-codes.js";
import { table } from "../format.js";
import { createImportProgress } from "../import/import-progress.js";
import { LineMap } from "../import/line-map.js";
import { formatOf, readRows } from "../import/read-rows.js";
import { importColumns } from "../import/row-to-request.js";
import type { Action } from "./action.js";

/** A row that was not imported. */
export interface InvalidRow {
  /** 1-based line of the file. */
  line: number;
  key: string;
  reason: string;
}

/** What `grouppe import --json` prints. */
export interface ImportSummary {
  file: string;
  /** Rows read from the file. */
  rows: number;
  created: number;
  alreadyPresent: number;
  invalid: InvalidRow[];
  durationMs: number;
  rowsPerSecond: number;
}

const help = `
The file has one event per row. CSV needs a header row; JSON lines have one object per line.
Columns / keys (snake_case or camelCase):
  ${importColumns.join(", ")}
key makes re-importing safe: a key imported before changes nothing (default: a hash of the row).
Times are ISO 8601 (2030-01-01T18:00:00Z); give address or online_url. Rows without organizer_id
are organized by --organizer, or else by the signed-in user. Imports need a client certificate (--cert, --key): an internal service.`;

/** `grouppe import <file>`: streams a CSV or JSON-lines file through ImportEvents. */
export function registerImport(program: Command, action: Action): void {
  program
    .command("import")
    .description("import events from a CSV or JSON-lines file, with progress and a summary")
    .argument("<file>", "file.csv or file.jsonl")
    .option(
      "--organizer <user-id>",
      "organizer of rows that name none (default: you, when signed in)",
    )
    .option("--format <format>", "csv or jsonl (default: from the file name)")
    .addHelpText("after", help)
    .action(
      action(async (ctx, [path], opts) => {
        const file = path as string;
        let size: number;
        try {
          const info = await stat(file);
          if (!info.isFile()) throw new Error("not a file");
          size = info.size;
        } catch (error) {
          const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
          throw new CliError(`${file} cannot be read (${why})`, ExitCode.usage);
        }
        const format = formatOf(file, opts.format as string | undefined);
        const organizer = (opts.organizer as string | undefined) ?? (await signedInUserId(ctx));
        const progress = createImportProgress(ctx.io.stderr, size);
        const lines = new LineMap();
        const invalid: InvalidRow[] = [];
        let rows = 0;
        let sent = 0;
        const startedAt = performance.now();

        async function* requests() {
          for await (const row of readRows(file, format, organizer)) {
            rows++;
            progress.update(row.bytes, rows);
            if (row.kind === "invalid") {
              invalid.push({ line: row.line, key: row.key, reason: row.reason });
              continue;
            }
            lines.add(sent++, row.line);
            yield row.request;
          }
        }

        let response: Awaited<ReturnType<ReturnType<typeof ctx.client>["events"]["importEvents"]>>;
        try {
          // The client certificate says who imports; a user token would take its place.
          response = await ctx.anonymous().events.importEvents(requests(), {
            signal: ctx.io.signal,
            // A large file takes as long as it takes; --timeout still bounds it when given.
            timeoutMs: ctx.options.timeout,
            contextValues: createContextValues().set(withoutDefaultDeadline, true),
          });
        } finally {
          progress.stop();
        }
        for (const error of response.errors) {
          invalid.push({ line: lines.lineOf(error.index), key: error.key, reason: error.reason });
        }
        invalid.sort((a, b) => a.line - b.line);
        const durationMs = Math.round(performance.now() - startedAt);
        const summary: ImportSummary = {
          file,
          rows,
          created: response.createdCount,
          alreadyPresent: response.unchangedCount,
          invalid,
          durationMs,
          rowsPerSecond: durationMs > 0 ? Math.round((rows * 1000) / durationMs) : rows,
        };
        if (ctx.json) ctx.printJson(summary);
        else printSummary(summary, (line) => ctx.print(line));
        return invalid.length > 0 ? ExitCode.partlyFailed : ExitCode.ok;
      }),
    );
}

/** The signed-in user, who organizes rows that name no organizer; undefined when signed out. */
async function signedInUserId(ctx: CommandContext): Promise<string | undefined> {
  if (!ctx.io.env.GROUPPE_TOKEN && (await loadCredentials(ctx.io)) === undefined) return undefined;
  const { user } = await ctx.client().auth.getCurrentUser({});
  return user?.id;
}

function printSummary(summary: ImportSummary, print: (line: string) => void): void {
  print(
    `${summary.file}: ${summary.rows} rows in ${(summary.durationMs / 1000).toFixed(1)} s (${summary.rowsPerSecond} rows/s)`,
  );
  print(`  created          ${summary.created}`);
  print(`  already present  ${summary.alreadyPresent}`);
  print(`  invalid          ${summary.invalid.length}`);
  if (summary.invalid.length === 0) return;
  print(
    table(
      ["LINE", "KEY", "REASON"],
      summary.invalid.map(({ line, key, reason }) => [String(line), key, reason]),
    ),
  );
}
