/** How a {@link Readiness} checks. */
export interface ReadinessOptions {
  /** Whether the dependencies answer (the database); a rejection counts as not ready. */
  check: () => Promise<boolean>;
  /** Time between the end of one check and the start of the next. */
  intervalMs: number;
  /** A check still running after this long counts as failed. */
  timeoutMs: number;
}

/**
 * The answer `/readyz` gives, checked in the background on a fixed rhythm: a probe (or a flood
 * of them from anyone who can reach the port) never costs a database query, and a slow
 * database never makes probes pile up. Checks never overlap.
 */
export class Readiness {
  #ready = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #options: ReadinessOptions;

  constructor(options: ReadinessOptions) {
    this.#options = options;
  }

  /** The result of the latest check; false before the first one and after {@link stop}. */
  get ready(): boolean {
    return this.#ready && !this.#stopped;
  }

  /** Runs the first check, then keeps checking until {@link stop}. */
  async start(): Promise<void> {
    await this.#run();
  }

  /** Stops checking; from now on not ready. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #run(): Promise<void> {
    this.#ready = await this.#checkOnce();
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#run(), this.#options.intervalMs);
    this.#timer.unref();
  }

  async #checkOnce(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.#options.timeoutMs);
    });
    try {
      return await Promise.race([this.#options.check().catch(() => false), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}
