import { run } from "./run.js";

// The first Ctrl-C asks the running command to stop (watch ends cleanly); a second one kills.
const interrupt = new AbortController();
process.once("SIGINT", () => interrupt.abort());

process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  signal: interrupt.signal,
});
