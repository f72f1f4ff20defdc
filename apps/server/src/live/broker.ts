import { Code, type ConnectError } from "@connectrpc/connect";
import { grouppeError } from "../errors.js";

/** How a {@link Broker} is sized. */
export interface BrokerOptions {
  /** Messages a subscriber may have unread; one more and it is cut off. */
  queueLimit: number;
}

interface Slot<M> {
  message: M;
  conflationKey: string | undefined;
}

interface Waiter<M> {
  resolve(message: M | undefined): void;
  reject(error: ConnectError): void;
}

/** The error a subscriber is ended with when its queue is full. */
export function fellBehindError(): ConnectError {
  return grouppeError(Code.ResourceExhausted, "WATCHER_FELL_BEHIND", "watcher fell behind");
}

/**
 * One subscriber's view of a topic: a bounded queue read with {@link Subscription.take} or
 * `for await`. Ends when its AbortSignal fires, when {@link Subscription.end} is called, or
 * when it falls behind by more than the queue limit (then reading throws RESOURCE_EXHAUSTED).
 */
export class Subscription<M extends object> implements AsyncIterable<M> {
  // A ring buffer that grows by doubling up to the queue limit, so idle subscribers stay small.
  private slots: (Slot<M> | undefined)[] = new Array(4);
  private head = 0;
  private size = 0;
  /** Unread slots by conflation key; cleared by every message without a key. */
  private readonly keyed = new Map<string, Slot<M>>();
  private waiter: Waiter<M> | undefined;
  private endedWith: { error: ConnectError | undefined } | undefined;
  private readonly onAbort = () => this.end();

  /** @internal Created by {@link Broker.subscribe}. */
  constructor(
    readonly topic: string,
    private readonly queueLimit: number,
    private readonly signal: AbortSignal | undefined,
    private readonly detach: (subscription: Subscription<M>) => void,
  ) {
    signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Whether the subscription has ended; an ended one receives nothing more. */
  get ended(): boolean {
    return this.endedWith !== undefined;
  }

  /** How many messages wait to be read. */
  get pending(): number {
    return this.size;
  }

  /**
   * Queues a message for this subscriber. With a conflation key, an unread message with the same
   * key is replaced in place (latest wins). A message without a key is a barrier: a keyed message
   * after it never overwrites one before it, so state seen by the reader never goes backwards.
   * Past the queue limit the subscription ends with RESOURCE_EXHAUSTED.
   */
  deliver(message: M, conflationKey?: string): void {
    if (this.endedWith) return;
    const waiter = this.waiter;
    if (waiter) {
      // The reader is waiting, so the queue is empty: hand over without queueing.
      this.waiter = undefined;
      waiter.resolve(message);
      return;
    }
    if (conflationKey === undefined) {
      this.keyed.clear();
    } else {
      const slot = this.keyed.get(conflationKey);
      if (slot) {
        slot.message = message;
        return;
      }
    }
    if (this.size >= this.queueLimit) {
      this.end(fellBehindError());
      return;
    }
    const slot: Slot<M> = { message, conflationKey };
    this.push(slot);
    if (conflationKey !== undefined) this.keyed.set(conflationKey, slot);
  }

  /**
   * The next message, waiting for one if needed; undefined once the subscription ended
   * normally. Rejects with the error it ended with (after its unread messages are dropped).
   */
  take(): Promise<M | undefined> {
    if (this.size > 0) return Promise.resolve(this.shift());
    if (this.endedWith) {
      const { error } = this.endedWith;
      return error ? Promise.reject(error) : Promise.resolve(undefined);
    }
    if (this.waiter)
      return Promise.reject(new Error("Subscription.take called while another take waits"));
    return new Promise<M | undefined>((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /**
   * Ends the subscription at once: it leaves its topic, unread messages are dropped, and a
   * waiting reader gets `undefined` (or `error`). Calling it again changes nothing.
   */
  end(error?: ConnectError): void {
    if (this.endedWith) return;
    this.endedWith = { error };
    this.signal?.removeEventListener("abort", this.onAbort);
    this.detach(this);
    this.slots = [];
    this.head = 0;
    this.size = 0;
    this.keyed.clear();
    const waiter = this.waiter;
    this.waiter = undefined;
    if (!waiter) return;
    if (error) waiter.reject(error);
    else waiter.resolve(undefined);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<M, void, undefined> {
    try {
      for (;;) {
        const message = await this.take();
        if (message === undefined) return;
        yield message;
      }
    } finally {
      this.end();
    }
  }

  private push(slot: Slot<M>): void {
    const capacity = this.slots.length;
    if (this.size === capacity) {
      const grown: (Slot<M> | undefined)[] = new Array(
        Math.min(capacity * 2, Math.max(this.queueLimit, 4)),
      );
      for (let i = 0; i < this.size; i++) grown[i] = this.slots[(this.head + i) % capacity];
      this.slots = grown;
      this.head = 0;
    }
    this.slots[(this.head + this.size) % this.slots.length] = slot;
    this.size++;
  }

  private shift(): M {
    const slot = this.slots[this.head] as Slot<M>;
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.slots.length;
    this.size--;
    if (slot.conflationKey !== undefined && this.keyed.get(slot.conflationKey) === slot) {
      this.keyed.delete(slot.conflationKey);
    }
    return slot.message;
  }
}

/**
 * In-process fan-out: every message published to a topic is queued for each subscriber of that
 * topic. Publishing never waits and costs O(subscribers); a subscriber that does not keep up is
 * cut off instead of slowing the publisher or the others, so memory stays bounded by
 * subscribers × queue limit.
 */
export class Broker<M extends object> {
  private readonly topics = new Map<string, Set<Subscription<M>>>();
  private count = 0;

  constructor(private readonly options: BrokerOptions) {
    if (!Number.isInteger(options.queueLimit) || options.queueLimit < 1) {
      throw new RangeError(`queueLimit must be a positive integer, got ${options.queueLimit}`);
    }
  }

  /**
   * Subscribes to `topic`. The subscription leaves the topic as soon as `signal` aborts or it
   * ends for any other reason.
   */
  subscribe(topic: string, signal?: AbortSignal): Subscription<M> {
    const subscription = new Subscription<M>(topic, this.options.queueLimit, signal, (s) =>
      this.detach(s),
    );
    if (signal?.aborted) {
      subscription.end();
      return subscription;
    }
    let subscribers = this.topics.get(topic);
    if (!subscribers) {
      subscribers = new Set();
      this.topics.set(topic, subscribers);
    }
    subscribers.add(subscription);
    this.count++;
    return subscription;
  }

  /**
   * Queues `message` for every subscriber of `topic` (see {@link Subscription.deliver} for the
   * conflation key). The same message object is shared by all of them. Returns how many
   * subscribers the topic had.
   */
  publish(topic: string, message: M, conflationKey?: string): number {
    const subscribers = this.topics.get(topic);
    if (!subscribers) return 0;
    const reached = subscribers.size;
    // Deleting the current element while iterating a Set is safe; a cut subscriber detaches here.
    for (const subscription of subscribers) subscription.deliver(message, conflationKey);
    return reached;
  }

  /** Whether `topic` has at least one subscriber. */
  hasSubscribers(topic: string): boolean {
    return this.topics.has(topic);
  }

  /** Subscribers of `topic`, or of all topics when no topic is given. */
  subscriberCount(topic?: string): number {
    return topic === undefined ? this.count : (this.topics.get(topic)?.size ?? 0);
  }

  /** The topics that have subscribers right now (a snapshot, safe to iterate while ending). */
  activeTopics(): string[] {
    return [...this.topics.keys()];
  }

  /** Ends every subscriber of `topic`, with `error` when given. */
  endTopic(topic: string, error?: ConnectError): void {
    const subscribers = this.topics.get(topic);
    if (!subscribers) return;
    for (const subscription of [...subscribers]) subscription.end(error);
  }

  /** Ends every subscriber of every topic, with `error` when given. */
  endAll(error?: ConnectError): void {
    for (const topic of this.activeTopics()) this.endTopic(topic, error);
  }

  private detach(subscription: Subscription<M>): void {
    const subscribers = this.topics.get(subscription.topic);
    if (!subscribers?.delete(subscription)) return;
    this.count--;
    if (subscribers.size === 0) this.topics.delete(subscription.topic);
  }
}
