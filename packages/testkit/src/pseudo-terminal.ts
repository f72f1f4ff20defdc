import { execFile } from "node:child_process";
import { existsSync } from "node:fs";

/** util-linux's `script` (Debian: bsdutils), which runs a command on a pseudo-terminal. */
export const scriptPath = process.env.SCRIPT_PATH ?? "/usr/bin/script";

/**
 * Whether terminal tests can run. Outside CI a missing `script` skips them with one line; in CI
 * it fails the run, so the terminal-only code paths never go untested quietly.
 */
export function pseudoTerminalAvailable(): boolean {
  if (existsSync(scriptPath)) return true;
  const message = `util-linux script not found at ${scriptPath}`;
  if (process.env.CI) throw new Error(`${message}; CI needs it (Debian: apt-get install bsdutils)`);
  console.warn(`skipping terminal tests: ${message} (set SCRIPT_PATH)`);
  return false;
}

/** What a command wrote to its terminal, and how it ended. */
export interface TerminalResult {
  code: number;
  /** stdout and stderr as one stream, as a terminal shows them (newlines become \r\n). */
  output: string;
}

export interface TerminalOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Terminal width (default: none set, as a terminal whose size is unknown). */
  columns?: number;
  /** Bounds a hang; the command is killed after this. */
  timeoutMs?: number;
}

/** Quotes one word for `sh -c`. */
function shellWord(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs `command args…` with stdin, stdout and stderr on a fresh pseudo-terminal, as in an
 * interactive shell, without a native addon: `script -qfec … /dev/null`.
 */
export function runInPseudoTerminal(
  command: string,
  args: string[],
  options: TerminalOptions = {},
): Promise<TerminalResult> {
  const run = [command, ...args].map(shellWord).join(" ");
  const line =
    options.columns === undefined ? `exec ${run}` : `stty cols ${options.columns} && exec ${run}`;
  return new Promise((resolve, reject) => {
    const child = execFile(
      scriptPath,
      ["-q", "-f", "-e", "-c", line, "/dev/null"],
      {
        // `script -c` runs the line with $SHELL; sh keeps the quoting above meaningful.
        env: { ...options.env, SHELL: "/bin/sh" },
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 30_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout) => {
        if (error !== null && typeof error.code !== "number") {
          reject(new Error(`${command} on a pseudo-terminal did not finish: ${error.message}`));
          return;
        }
        resolve({ code: error === null ? 0 : (error.code as number), output: stdout });
      },
    );
    // Nothing is typed: the command reads no input.
    child.stdin?.end();
  });
}
