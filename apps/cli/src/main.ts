import { run } from "./run.js";

// `grouppe events list | head` closes the pipe early: that ends the command, quietly.
for (const output of [process.stdout, process.stderr]) {
  output.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

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
