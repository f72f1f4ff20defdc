/**
 * `grouppe`, the command line for operators and scripts, as a function: `run(argv, io)` runs
 * one command and returns its exit status, so other programs and tests can call it in-process.
 */
export type { CliIo, TextOutput } from "./cli-io.js";
export { ExitCode, exitCodeOf } from "./exit-codes.js";
export { run } from "./run.js";
