import pg from "pg";
import { checkChannelName } from "./channel-name.js";
import type { Unlisten } from "./db.js";

/** How a {@link PostgresListener} connects and waits between reconnection attempts. */
export interface PostgresListenerOptions {
  connection: pg.ClientConfig;
  /** The first wait after a drop, doubled per failed attempt up to `max`, with jitter. */
  reconnectDelayMs: { initial: number; max: number };
  /** Told about drops, failed reconnects and listeners that threw; never throws itself. */
  onError: (error: unknown, what: string) => void;
  /**
   * How often the connection is asked a trivial query, and how long it may take to answer
   * before the connection counts as dead. Default every 10 s, 5 s to answer.
   */
  probe?: { intervalMs: number; timeoutMs: number };
}

/** A dead LISTEN connection is noticed within interval + timeout: 15 s, well inside 30 s. */
const defaultProbe = { intervalMs: 10_000, timeoutMs: 5_000 };

interface Subscription {
  onMessage: (payload: string) => void;
  onReconnect?: () => void;
}

/**
 * Holds ONE dedicated connection for every LISTEN of a Db. When that connection errors or
 * ends (a restart, pg_terminate_backend, a dead network), it reconnects with exponential
 * backoff and jitter, LISTENs on every channel again and then calls each `onReconnect`,
 * because notifications sent while it was away are lost.
 *
 * A connection can also die silently (a NAT entry expires, a host vanishes): nothing errors,
 * notifications just stop. So the connection is probed with `SELECT 1` on an interval; one
 * that does not answer in time is destroyed and replaced like any other drop.
 */
export class PostgresListener {
  readonly #options: PostgresListenerOptions;
  readonly #subscriptions = new Map<string, Set<Subscription>>();
  #client: pg.Client | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #failedAttempts = 0;
  #closed = false;
  #probeTimer: NodeJS.Timeout | undefined;
  /** Connecting, LISTEN and UNLISTEN run one at a time so they never interleave. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: PostgresListenerOptions) {
    this.#options = options;
  }

  /** Subscribes to `channel`; rejects when the first connection cannot be made. */
  async listen(
    channel: string,
    onMessage: (payload: string) => void,
    onReconnect?: () => void,
  ): Promise<Unlisten> {
    checkChannelName(channel);
    const subscription: Subscription = { onMessage, onReconnect };
    await this.#serially(async () => {
      if (this.#closed) throw new Error("the database is closed");
      const existing = this.#subscriptions.get(channel);
      const subscribers = existing ?? new Set<Subscription>();
      subscribers.add(subscription);
      this.#subscriptions.set(channel, subscribers);
      const client = this.#client;
      try {
        if (client) {
          if (!existing) await client.query(`LISTEN ${channel}`);
        } else if (!this.#retryTimer) {
          await this.#connect();
        }
        // Otherwise a reconnect is pending and will LISTEN on this channel too.
      } catch (error) {
        // A connection that dropped meanwhile is being replaced, and the new one covers this
        // subscription; any other failure is the caller's to see.
        if (client && this.#client !== client) return;
        this.#unsubscribe(channel, subscription);
        throw error;
      }
    });
    return () => this.#unlisten(channel, subscription);
  }

  /** Stops reconnecting and closes the connection. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#probeTimer);
    this.#retryTimer = undefined;
    this.#subscriptions.clear();
    await this.#serially(() => this.#disconnect());
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #unsubscribe(channel: string, subscription: Subscription): boolean {
    const subscribers = this.#subscriptions.get(channel);
    if (!subscribers?.delete(subscription) || subscribers.size > 0) return false;
    this.#subscriptions.delete(channel);
    return true;
  }

  async #unlisten(channel: string, subscription: Subscription): Promise<void> {
    // Removed at once, so not one more message reaches this subscriber.
    const channelUnused = this.#unsubscribe(channel, subscription);
    await this.#serially(async () => {
      if (this.#subscriptions.size === 0) {
        clearTimeout(this.#retryTimer);
        this.#retryTimer = undefined;
        await this.#disconnect();
        return;
      }
      if (channelUnused && !this.#subscriptions.has(channel) && this.#client) {
        await this.#client.query(`UNLISTEN ${channel}`).catch(() => undefined);
      }
    });
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(this.#options.connection);
    // Errors of a client that is not (or no longer) current are expected and ignored.
    client.on("error", (error) => this.#dropped(client, error));
    client.on("end", () => this.#dropped(client, undefined));
    client.on("notification", (message) => this.#deliver(message.channel, message.payload ?? ""));
    try {
      await client.connect();
      const channels = [...this.#subscriptions.keys()];
      if (channels.length > 0)
        await client.query(channels.map((channel) => `LISTEN ${channel};`).join(" "));
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.#client = client;
    this.#startProbing(client);
  }

  async #disconnect(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    clearTimeout(this.#probeTimer);
    await client?.end().catch(() => undefined);
  }

  #startProbing(client: pg.Client): void {
    const { intervalMs, timeoutMs } = this.#options.probe ?? defaultProbe;
    const probeOnce = async () => {
      if (client !== this.#client) return;
      let timer: NodeJS.Timeout | undefined;
      const answered = await Promise.race([
        client.query("SELECT 1").then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (client !== this.#client) return;
      if (!answered) {
        // end() would wait for a goodbye that never comes over a dead connection.
        (
          client as unknown as { connection?: { stream?: { destroy(): void } } }
        ).connection?.stream?.destroy();
        this.#dropped(client, new Error(`no answer to a probe within ${timeoutMs} ms`));
        return;
      }
      this.#probeTimer = setTimeout(() => void probeOnce(), intervalMs);
      this.#probeTimer.unref();
    };
    this.#probeTimer = setTimeout(() => void probeOnce(), intervalMs);
    this.#probeTimer.unref();
  }

  #deliver(channel: string, payload: string): void {
    for (const subscription of this.#subscriptions.get(channel) ?? []) {
      try {
        subscription.onMessage(payload);
      } catch (error) {
        this.#options.onError(error, `a listener of ${channel} threw`);
      }
    }
  }

  #dropped(client: pg.Client, error: Error | undefined): void {
    if (client !== this.#client) return;
    this.#client = undefined;
    clearTimeout(this.#probeTimer);
    this.#options.onError(error ?? new Error("connection ended"), "the LISTEN connection dropped");
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#retryTimer || this.#subscriptions.size === 0) return;
    const { initial, max } = this.#options.reconnectDelayMs;
    const ceiling = Math.min(max, initial * 2 ** Math.min(this.#failedAttempts, 30));
    // Jitter spreads the reconnects of many servers after one database restart.
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.#failedAttempts++;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#serially(() => this.#reconnect());
    }, delay);
    this.#retryTimer.unref();
  }

  async #reconnect(): Promise<void> {
    if (this.#closed || this.#client || this.#subscriptions.size === 0) return;
    try {
      await this.#connect();
    } catch (error) {
      this.#options.onError(error, "reconnecting the LISTEN connection failed");
      this.#scheduleReconnect();
      return;
    }
    this.#failedAttempts = 0;
    for (const subscribers of [...this.#subscriptions.values()]) {
      for (const subscription of [...subscribers]) {
        try {
          subscription.onReconnect?.();
        } catch (error) {
          this.#options.onError(error, "an onReconnect callback threw");
        }
      }
    }
  }
}
