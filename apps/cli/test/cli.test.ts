import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createGrouppeClient, type GrouppeClient } from "@grouppe/client";
import { eventually, pseudoTerminalAvailable, runInPseudoTerminal } from "@grouppe/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CertificateFiles, tlsEnv, writeCertificates } from "./support/certificates.js";
import { runCli, spawnCli, startCli } from "./support/run-cli.js";
import { repoRoot, type ServerProcess, startServerProcess } from "./support/server-process.js";
import { createTestDatabase, type TestDatabase } from "./support/test-database.js";

let dir: string;
let certs: CertificateFiles;
let database: TestDatabase;
let server: ServerProcess;
let sdk: GrouppeClient;
/** What every command gets: where the server is, the CA, an empty config directory. */
let env: Record<string, string>;
const ada = { id: "", token: "" };
const bob = { id: "", token: "" };

async function signUp(email: string, displayName: string) {
  const { session } = await sdk.auth.signUp({ email, password: "correct horse", displayName });
  return { id: session?.user?.id ?? "", token: session?.accessToken ?? "" };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "grouppe-cli-"));
  [certs, database] = await Promise.all([
    writeCertificates(join(dir, "certs")),
    createTestDatabase(),
  ]);
  server = await startServerProcess({ tls: true, env: { ...database.env, ...tlsEnv(certs) } });
  sdk = createGrouppeClient({
    addresses: [server.address],
    tls: { ca: await readFile(certs.ca) },
  });
  Object.assign(ada, await signUp("ada@example.com", "Ada"));
  Object.assign(bob, await signUp("bob@example.com", "Bob"));
  env = {
    GROUPPE_ADDRESS: server.address,
    GROUPPE_CA: certs.ca,
    GROUPPE_CONFIG_DIR: join(dir, "config"),
  };
});

afterAll(async () => {
  sdk?.close();
  await server?.close();
  await database?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const as = (user: { token: string }) => ({ ...env, GROUPPE_TOKEN: user.token });

const eventFlags = [
  "--title",
  "Svelte meetup",
  "--starts",
  "2030-01-01T18:00:00Z",
  "--ends",
  "2030-01-01T20:00:00Z",
  "--time-zone",
  "Europe/Berlin",
  "--venue",
  "Hafenstrasse 1, Hamburg",
  "--capacity",
  "30",
];

describe("the grouppe binary", () => {
  it("answers --help, health and usage errors with the documented exit codes", async () => {
    const [help, health, usage, down] = await Promise.all([
      spawnCli(["--help"], {}),
      spawnCli(["health"], env),
      spawnCli(["events", "get"], env),
      spawnCli(["health", "--address", "http://127.0.0.1:1", "--timeout", "2000"], {}),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: grouppe /);
    expect(help.stdout).toContain("7    import partly failed");

    expect(health).toMatchObject({ code: 0, stdout: "SERVING\n" });

    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("missing required argument 'id'");

    expect(down.code).toBe(3);
    expect(down.stderr.trim().split("\n")).toHaveLength(1);
    expect(down.stderr).toMatch(/^grouppe: .*UNAVAILABLE.*check --address/);
  });
});

describe("grouppe commands", () => {
  it("logs in with the session in a file only its owner can read, and logs out", async () => {
    const login = await runCli(
      ["login", "--email", "ada@example.com", "--password-stdin"],
      env,
      "correct horse\n",
    );
    expect(login).toMatchObject({ code: 0, stdout: "Signed in as Ada <ada@example.com>.\n" });
    const file = join(env.GROUPPE_CONFIG_DIR as string, "credentials.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const whoami = await runCli(["whoami", "--json"], env);
    expect(whoami.code).toBe(0);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ id: ada.id, email: "ada@example.com" });

    // An access token about to expire is refreshed, and the rotated session saved again.
    const saved = JSON.parse(await readFile(file, "utf8"));
    await writeFile(
      file,
      JSON.stringify({
        ...saved,
        accessTokenExpireTime: new Date(Date.now() - 1_000).toISOString(),
      }),
    );
    expect((await runCli(["whoami"], env)).stdout).toContain("ada@example.com");
    const refreshed = JSON.parse(await readFile(file, "utf8"));
    expect(refreshed.refreshToken).not.toBe(saved.refreshToken);
    expect(Date.parse(refreshed.accessTokenExpireTime)).toBeGreaterThan(Date.now());
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    expect((await runCli(["logout"], env)).stdout).toBe("Signed out.\n");
    await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
    const signedOut = await runCli(["whoami"], env);
    expect(signedOut.code).toBe(4);
    expect(signedOut.stderr).toMatch(/UNAUTHENTICATED.*run `grouppe login` or set GROUPPE_TOKEN/);
  });

  it("creates, lists, shows, updates, cancels and deletes events", async () => {
    const created = await runCli(["events", "create", ...eventFlags, "--json"], as(ada));
    expect(created.code).toBe(0);
    const { id } = JSON.parse(created.stdout) as { id: string };

    const list = await runCli(["events", "list", "--json", "--query", "Svelte"], env);
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.stdout) as { events: { id: string; title: string }[] };
    expect(listed.events.map((event) => event.id)).toContain(id);

    const table = await runCli(["events", "list", "--query", "Svelte"], env);
    expect(table.stdout).toMatch(/ID\s+│\s+TITLE/);
    expect(table.stdout).toContain("Svelte meetup");
    expect(table.stdout).toContain("0/30");

    const updated = await runCli(["events", "update", id, "--title", "Svelte meetup #2"], as(ada));
    expect(updated.code).toBe(0);
    expect(updated.stdout).toContain("Svelte meetup #2");
    const get = await runCli(["events", "get", id, "--json"], env);
    expect(JSON.parse(get.stdout)).toMatchObject({ event: { id, title: "Svelte meetup #2" } });

    const notYours = await runCli(["events", "cancel", id], as(bob));
    expect(notYours.code).toBe(4);
    expect((await runCli(["events", "cancel", id, "--reason", "venue closed"], as(ada))).code).toBe(
      0,
    );
    expect((await runCli(["events", "get", id], env)).stdout).toMatch(
      /cancel reason\s+│ venue closed/,
    );

    expect((await runCli(["events", "delete", id], as(ada))).stdout).toBe(`Deleted ${id}.\n`);
    const gone = await runCli(["events", "get", id], env);
    expect(gone.code).toBe(5);
    expect(gone.stderr).toMatch(/^grouppe: .*NOT_FOUND/);

    const missing = await runCli(["events", "create", "--title", "x"], as(ada));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--starts, --ends, --time-zone, --venue or --url");
  });

  it("joins, lists attendees and leaves; watch <id> shows a join made elsewhere", async () => {
    const created = await runCli(["events", "create", ...eventFlags, "--json"], as(ada));
    const { id } = JSON.parse(created.stdout) as { id: string };

    const watch = startCli(["watch", id], env);
    await eventually(() => watch.stdout.includes("now "), { what: "watch printed the snapshot" });
    expect(watch.stdout).toContain("Svelte meetup: seats 0/30");

    const join = await runCli(["join", id], as(bob));
    expect(join).toMatchObject({ code: 0, stdout: "You are attending; seats 1/30.\n" });
    await eventually(() => watch.stdout.includes("rsvp "), { what: "watch printed the join" });
    expect(watch.stdout).toMatch(/rsvp\s+1 attending, 0 on the waitlist/);

    const attendees = await runCli(["attendees", id, "--json"], env);
    expect(JSON.parse(attendees.stdout)).toMatchObject({
      attendees: [
        { person: { userId: bob.id, displayName: "Bob" }, status: "RSVP_STATUS_ATTENDING" },
      ],
    });
    expect((await runCli(["leave", id], as(bob))).code).toBe(0);
    await eventually(() => /rsvp\s+0 attending/.test(watch.stdout), {
      what: "watch printed the leave",
    });

    // Ctrl-C ends watching; that is how it is meant to end.
    expect((await watch.interrupt()).code).toBe(0);
  });

  it("imports 10,000 rows: reports the 3 bad ones by line, and a second import creates nothing", async () => {
    const header = "key,title,starts_at,ends_at,time_zone,address,capacity";
    const rows = Array.from({ length: 10_000 }, (_, i) => {
      const starts = i === 100 ? "next tuesday" : "2030-03-01T18:00:00Z";
      const ends = i === 5_000 ? "2030-03-01T17:00:00Z" : "2030-03-01T20:00:00Z";
      const title = i === 9_998 ? "" : `Imported ${i}`;
      return `row-${i},${title},${starts},${ends},Europe/Berlin,Street ${i},${i % 50}`;
    });
    const file = join(dir, "events.csv");
    await writeFile(file, `${header}\n${rows.join("\n")}\n`);
    const importArgs = importAsAda(file);

    const first = await runCli([...importArgs, "--json"], env);
    expect(first.code).toBe(7);
    const summary = JSON.parse(first.stdout);
    expect(summary).toMatchObject({ rows: 10_000, created: 9_997, alreadyPresent: 0 });
    // Line 1 is the header: row i is on line i + 2.
    expect(summary.invalid).toEqual([
      {
        line: 102,
        key: "row-100",
        reason: expect.stringMatching(/^starts_at: "next tuesday" is not/),
      },
      {
        line: 5_002,
        key: "row-5000",
        reason: expect.stringContaining("ends_at must be after starts_at"),
      },
      { line: 10_000, key: "row-9998", reason: expect.stringMatching(/title/) },
    ]);
    expect(first.stderr).toMatch(
      /^importing: \d+ rows, \d+% of the file, \d+ rows\/s, ETA \d+ s$/m,
    );

    const again = await runCli(importArgs, env);
    expect(again.code).toBe(7);
    expect(again.stdout).toMatch(/created +0\n/);
    expect(again.stdout).toMatch(/already present +9997\n/);
    expect(again.stdout).toMatch(/invalid +3\n/);
    expect(again.stdout).toMatch(/│ 5002 +│ row-5000 │/);
  });
});

/** `grouppe import FILE` for Ada's events, as an internal service (client certificate) runs it. */
function importAsAda(file: string): string[] {
  return ["import", file, "--organizer", ada.id, "--cert", certs.client, "--key", certs.clientKey];
}

describe("grouppe import on a terminal", () => {
  const csi = "\u001b[";
  /** What one drawing of the bar shows. */
  const shown = /^importing \|[█░]+\| (\d+)% \| (\d+) rows \| (\d+) rows\/s \| ETA (\S+)$/;

  it.skipIf(!pseudoTerminalAvailable())(
    "redraws one progress line with rows/s and an ETA that fits 80 columns, then prints the summary",
    async () => {
      const rows = Array.from({ length: 1_000 }, (_, i) =>
        JSON.stringify({
          key: `tty-${i}`,
          title: `Terminal ${i}`,
          starts_at: "2030-04-01T18:00:00Z",
          ends_at: i === 700 ? "2030-04-01T17:00:00Z" : "2030-04-01T20:00:00Z",
          time_zone: "Europe/Berlin",
          address: `Street ${i}`,
        }),
      );
      const file = join(dir, "terminal.jsonl");
      await writeFile(file, `${rows.join("\n")}\n`);
      const { code, output } = await runInPseudoTerminal(
        process.execPath,
        [join(repoRoot, "apps/cli/bin/grouppe.js"), ...importAsAda(file)],
        { env: { PATH: process.env.PATH, ...env }, cwd: repoRoot, columns: 80 },
      );
      expect(code).toBe(7);

      const summaryAt = output.indexOf(`${file}: `);
      expect(summaryAt).toBeGreaterThan(0);
      // Every drawing starts over at column 1 of the same line: one line feed, before the summary.
      const bar = output.slice(0, summaryAt);
      expect(bar.indexOf("\n")).toBe(bar.length - 1);
      // Each drawing goes to column 1, draws, and clears what an older, longer one left.
      const drawings = bar
        .split(`${csi}1G`)
        .slice(1)
        .map((drawing) => drawing.slice(0, drawing.indexOf(`${csi}0K`)));
      expect(drawings.length).toBeGreaterThanOrEqual(2);
      for (const drawing of drawings) expect(drawing.length).toBeLessThanOrEqual(80);
      const frames = drawings.map((drawing) => shown.exec(drawing));
      expect(frames).not.toContain(null);

      const [first, last] = [frames[0], frames.at(-1)];
      expect(first?.slice(1, 3)).toEqual(["0", "0"]);
      expect(last?.slice(1, 3)).toEqual(["100", "1000"]);
      expect(Number(last?.[3])).toBeGreaterThan(0);
      expect(last?.[4]).toBe("0s");
      // The cursor the bar hid comes back before the summary.
      expect(bar.lastIndexOf(`${csi}?25h`)).toBeGreaterThan(bar.lastIndexOf("importing"));

      const summary = output.slice(summaryAt + file.length).replaceAll("\r\n", "\n");
      expect(summary).toMatch(/^: 1000 rows in \d+\.\d s \(\d+ rows\/s\)\n/);
      expect(summary).toContain("  created          999\n");
      expect(summary).toContain("  already present  0\n");
      expect(summary).toContain("  invalid          1\n");
      // JSON lines have no header: row i is on line i + 1.
      expect(summary).toMatch(/│ 701 +│ tty-700 +│ .*ends_at must be after starts_at/);
    },
  );
});

describe("README", () => {
  it("runs the command-line examples verbatim", async () => {
    const readme = await readFile(join(repoRoot, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Command line"));
    const script = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
    const csv = /```csv\n([\s\S]*?)```/.exec(section)?.[1];
    if (script === undefined || csv === undefined) throw new Error("no examples in the README");
    const cwd = await mkdtemp(join(dir, "readme-"));
    await writeFile(join(cwd, "events.csv"), csv);
    await promisify(execFile)("ln", ["-s", certs.dir, join(cwd, "certs")]);

    const { stdout } = await promisify(execFile)("bash", ["-euo", "pipefail", "-c", script], {
      cwd,
      env: {
        ...env,
        PATH: `${join(repoRoot, "node_modules/.bin")}:${process.env.PATH}`,
        GROUPPE_CONFIG_DIR: join(cwd, "config"),
      },
    });
    expect(stdout).toContain("SERVING");
    expect(stdout).toContain("Signed in as Ada <ada@example.com>.");
    expect(stdout).toContain("Svelte meetup");
    expect(stdout).toMatch(/events\.csv: 2 rows/);
    expect(stdout).toContain("Signed out.");
  });
});
