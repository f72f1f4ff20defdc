/** One key's calls in its current window. */
interface Window {
  /** When the window ends (epoch ms): the next call at or after it opens a new one. */
  resetAt: number;
  count: number;
}

export interface MemoryRateCountersOptions {
  windowMs: number;
  /** For tests: the clock. */
  now?: () => number;
}

/**
 * Rate-limit counters of one process, counted as rate-limiter-flexible's `RateLimiterMemory`
 * counts (a key's window opens with its first call and lasts `windowMs`; past the limit a call
 * learns how long until the window ends), without its promise, result object and timer per
 * key: every call of a process on PGlite passes here, and the library's path was the largest
 * piece of grouppe's own code in the CPU profile of Health/Check. Ended windows are dropped
 * once a window, on the next call.
 */
export class MemoryRateCounters {
  readonly #windows = new Map<string, Window>();
  readonly #windowMs: number;
  readonly #now: () => number;
  #sweepAt: number;

  constructor(options: MemoryRateCountersOptions) {
    this.#windowMs = options.windowMs;
    this.#now = options.now ?? Date.now;
    this.#sweepAt = this.#now() + this.#windowMs;
  }

  /**
   * Counts one call for `key` if it stays within `limit`: undefined when it may go ahead,
   * otherwise the milliseconds until the key's window ends.
   */
  take(key: string, limit: number): number | undefined {
    const now = this.#now();
    if (now >= this.#sweepAt) this.#sweep(now);
    let window = this.#windows.get(key);
    if (window === undefined || now >= window.resetAt) {
      window = { resetAt: now + this.#windowMs, count: 0 };
      this.#windows.set(key, window);
    }
    if (window.count >= limit) return window.resetAt - now;
    window.count++;
    return undefined;
  }

  /** Keys with a window open (ended ones linger until the next sweep). */
  get size(): number {
    return this.#windows.size;
  }

  #sweep(now: number): void {
    for (const [key, window] of this.#windows) {
      if (now >= window.resetAt) this.#windows.delete(key);
    }
    this.#sweepAt = now + this.#windowMs;
  }
}
