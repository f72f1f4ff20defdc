/** How {@link eventually} polls. */
export interface EventuallyOptions {
  /** What is awaited, for the failure message. */
  what: string;
  /** How long to keep trying. Generous: this bounds a hang, it does not measure speed. */
  timeoutMs?: number;
  /** Pause between attempts. */
  intervalMs?: number;
}

/**
 * Resolves with the first value of `check` that is neither `false` nor a thrown error, trying
 * every `intervalMs` until `timeoutMs` has passed. On failure the error says what was awaited,
 * how long it waited, how many times it looked, and the last error `check` threw, so a failure on
 * a slow machine tells a slow machine from a broken one.
 */
export async function eventually<T>(
  check: () => T | false | Promise<T | false>,
  { what, timeoutMs = 20_000, intervalMs = 20 }: EventuallyOptions,
): Promise<T> {
  const started = Date.now();
  let attempts = 0;
  let lastError: unknown;
  for (;;) {
    attempts++;
    try {
      const value = await check();
      if (value !== false) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    const waited = Date.now() - started;
    if (waited >= timeoutMs) {
      const last =
        lastError === undefined
          ? ""
          : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(
        `${what}: not seen after ${Math.round(waited)} ms (${attempts} checks)${last}`,
        { cause: lastError },
      );
    }
    // The global timer, so a test with fake timers drives the polling too.
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
