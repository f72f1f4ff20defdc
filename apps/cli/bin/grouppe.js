#!/usr/bin/env node
// The `grouppe` command: runs the compiled CLI. Right after `npm install` in a fresh checkout
// nothing is compiled yet, so the first run builds the CLI and what it depends on, once.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const main = new URL("../dist/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write("grouppe: first run, building the CLI (npm run build)…\n");
  const built = spawnSync(
    "npx",
    ["turbo", "run", "build", "--filter=@grouppe/cli...", "--output-logs=errors-only"],
    // Build output goes to stderr: stdout belongs to the command (--json).
    { cwd: fileURLToPath(new URL("../../..", import.meta.url)), stdio: ["ignore", 2, 2] },
  );
  if (built.status !== 0 || !existsSync(main)) {
    process.stderr.write("grouppe: the build failed; run `npm run build` and try again\n");
    process.exit(1);
  }
}
await import(main.href);
