import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rotateKeysCommand } from "./rotate-keys-command.js";

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "grouppe-rotate-"));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function run(argv: string[], env: Record<string, string> = {}, now = Date.UTC(2030, 0, 1)) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await rotateKeysCommand(
    argv,
    { GROUPPE_DATA_DIR: dataDir, ...env },
    { out: (line) => out.push(line), err: (line) => err.push(line) },
    () => now,
  );
  return { code, out, err };
}

describe("npm run rotate-keys", () => {
  it("adds a key that activates after two reload intervals, then one at a chosen time", async () => {
    const first = await run([], { GROUPPE_SIGNING_KEY_RELOAD_MS: "30000" });
    expect(first.code).toBe(0);
    expect(first.out[0]).toMatch(/^added key [\w-]{12}; it signs from 2030-01-01T00:01:00\.000Z$/);
    expect(first.out[1]).toBe("removed: none");
    const second = await run(["--activate-in", "5"]);
    expect(second.out[0]).toMatch(/it signs from 2030-01-01T00:00:05\.000Z$/);
    expect((await readdir(join(dataDir, "signing-keys"))).sort()).toHaveLength(3);
  });

  it("drops keys whose tokens have all expired with --prune-only", async () => {
    const later = Date.UTC(2030, 0, 2);
    const pruned = await run(["--prune-only"], {}, later);
    expect(pruned.code).toBe(0);
    expect(pruned.out).toHaveLength(2);
    expect(pruned.out[0]).toMatch(/^removed: access-token, [\w-]{12}$/);
    expect(await readdir(join(dataDir, "signing-keys"))).toHaveLength(1);
  });

  it("refuses bad arguments and a fixed key file with exit code 2", async () => {
    expect((await run(["--activate-in", "soon"])).err[0]).toMatch(/expected whole seconds/);
    expect((await run(["--bogus"])).code).toBe(2);
    expect((await run(["--revoke", "--prune-only"])).err[0]).toMatch(/--revoke adds a key/);
    const fixed = await run([], { GROUPPE_JWT_KEY_FILE: join(dataDir, "missing.pem") });
    expect(fixed.code).toBe(2);
    expect(fixed.err[0]).toMatch(/GROUPPE_JWT_KEY_FILE/);
  });
});
