import { execFile } from "node:child_process";
import { join } from "node:path";
import { Readable } from "node:stream";
import { run } from "../../src/run.js";
import { repoRoot } from "./server-process.js";

/** What one `grouppe` command printed and how it ended. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The outputs of a command that is still running (watch). */
export interface RunningCli {
  readonly stdout: string;
  readonly stderr: string;
  /** Ctrl-C: resolves with how the command ended. */
  interrupt(): Promise<CliResult>;
}

/** Runs one `grouppe` command in this process. */
export async function runCli(
  argv: string[],
  env: Record<string, string | undefined>,
  stdin = "",
): Promise<CliResult> {
  const running = startCli(argv, env, stdin);
  return running.done;
}

/** Starts one `grouppe` command in this process, to be interrupted like Ctrl-C. */
export function startCli(
  argv: string[],
  env: Record<string, string | undefined>,
  stdin = "",
): RunningCli & { done: Promise<CliResult> } {
  let stdout = "";
  let stderr = "";
  const interrupt = new AbortController();
  const input = Readable.from([stdin]) as unknown as NodeJS.ReadableStream;
  const done = run(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: input,
    env,
    signal: interrupt.signal,
  }).then((code) => ({ code, stdout, stderr }));
  return {
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    done,
    interrupt() {
      interrupt.abort();
      return done;
    },
  };
}

/** Runs the real `grouppe` binary, as `npx grouppe` from the repository root does. */
export function spawnCli(
  argv: string[],
  env: Record<string, string | undefined>,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, "apps/cli/bin/grouppe.js"), ...argv],
      { env: { PATH: process.env.PATH, ...env }, cwd: repoRoot },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
