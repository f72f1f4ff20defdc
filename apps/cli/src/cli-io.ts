/** A stream the CLI writes text to. */
export interface TextOutput {
  write(text: string): unknown;
  /** True on a terminal: progress bars, colours and prompts only go there. */
  isTTY?: boolean;
}

/**
 * Everything a command touches outside itself, so that `run()` works the same in the `grouppe`
 * process and inside a test.
 */
export interface CliIo {
  stdout: TextOutput;
  stderr: TextOutput;
  /** Where `login --password-stdin` reads the password. */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** The environment: GROUPPE_ADDRESS, GROUPPE_TOKEN, GROUPPE_CONFIG_DIR, … */
  env: Record<string, string | undefined>;
  /** Aborted on Ctrl-C: `watch` ends cleanly, other commands stop. */
  signal?: AbortSignal;
}
