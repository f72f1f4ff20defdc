import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AuthService } from "@grouppe/api";
import { startGrouppe } from "../grouppe/grouppe-process.js";
import { repoRoot, serverRoot } from "../paths.js";
import type { ImportRow } from "../report/report-types.js";
import type { BenchContext } from "./bench-context.js";

const run = promisify(execFile);

/** What `grouppe import --json` prints. */
interface ImportSummary {
  rows: number;
  created: number;
  alreadyPresent: number;
  durationMs: number;
}

/** A CSV of `rows` events that pass every rule. */
function csvOf(rows: number): string {
  const lines = ["key,title,description,starts_at,ends_at,time_zone,address,capacity"];
  for (let i = 0; i < rows; i++) {
    lines.push(
      `bench-${i},Imported event ${i},Row ${i} of the bench file,2030-05-01T18:00:00Z,2030-05-01T20:00:00Z,Europe/Berlin,Street ${i},${i % 100}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/**
 * `grouppe import` (the real CLI, its own process) of a generated CSV file into grouppe on
 * PGlite over gRPC with mTLS, twice: the first import creates every event, the second finds
 * every key and creates nothing. Events/s is rows over the CLI's own wall time, from opening the
 * file to the server's answer.
 */
export async function runImportScenario(context: BenchContext, rows: number): Promise<ImportRow[]> {
  const dir = await mkdtemp(join(tmpdir(), "grouppe-bench-import-"));
  try {
    const certs = join(dir, "certs");
    await run(process.execPath, [join(serverRoot, "dist/cli/certs.js"), "--out", certs]);
    const ca = await readFile(join(certs, "ca.pem"));
    const grouppe = await startGrouppe({
      tlsCa: ca,
      env: {
        GROUPPE_TLS_CERT: join(certs, "server.pem"),
        GROUPPE_TLS_KEY: join(certs, "server-key.pem"),
        GROUPPE_CLIENT_CA: join(certs, "ca.pem"),
      },
    });
    try {
      const auth = createClient(
        AuthService,
        createGrpcTransport({ baseUrl: grouppe.url, nodeOptions: { ca } }),
      );
      const { session } = await auth.signUp({
        email: "importer@example.com",
        password: "correct horse",
        displayName: "Importer",
      });
      const file = join(dir, "events.csv");
      await writeFile(file, csvOf(rows));
      const results: ImportRow[] = [];
      for (const kind of ["first import", "re-import"] as const) {
        const { stdout } = await run(
          process.execPath,
          [
            resolve(repoRoot, "apps/cli/bin/grouppe.js"),
            "--address",
            grouppe.url,
            "--ca",
            join(certs, "ca.pem"),
            "--cert",
            join(certs, "client.pem"),
            "--key",
            join(certs, "client-key.pem"),
            "import",
            file,
            "--organizer",
            session?.user?.id ?? "",
            "--json",
          ],
          { maxBuffer: 64 * 1024 * 1024 },
        );
        const summary = JSON.parse(stdout) as ImportSummary;
        const seconds = summary.durationMs / 1000;
        const row: ImportRow = {
          storage: "pglite",
          kind,
          rows: summary.rows,
          created: summary.created,
          alreadyPresent: summary.alreadyPresent,
          seconds,
          eventsPerSecond: Math.round(summary.rows / seconds),
        };
        context.progress(
          `grouppe import (${kind}): ${row.rows} rows in ${seconds.toFixed(2)} s, ${row.eventsPerSecond} events/s`,
        );
        results.push(row);
      }
      return results;
    } finally {
      await grouppe.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
