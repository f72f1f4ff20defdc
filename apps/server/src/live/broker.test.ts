import { setImmediate as nextTurn } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { type WatchEventResponse, WatchEventResponseSchema } from "@grouppe/api";
import { describe, expect, it } from "vitest";
import { Broker, type Subscription } from "./broker.js";

interface Note {
  text: string;
}

const note = (text: string): Note => ({ text });

/** Reads everything queued right now without waiting for more. */
async function drain<M extends object>(subscription: Subscription<M>): Promise<M[]> {
  const read: M[] = [];
  while (subscription.pending > 0) {
    const message = await subscription.take();
    if (message === undefined) break;
    read.push(message);
  }
  return read;
}

describe("Broker", () => {
  it("delivers every message to every subscriber of the topic, in order, and none elsewhere", async () => {
    const broker = new Broker<Note>({ queueLimit: 10 });
    const first = broker.subscribe("a");
    const second = broker.subscribe("a");
    const other = broker.subscribe("b");
    expect(broker.publish("a", note("1"))).toBe(2);
    broker.publish("a", note("2"));
    expect(broker.publish("nobody", note("x"))).toBe(0);
    expect((await drain(first)).map((m) => m.text)).toEqual(["1", "2"]);
    expect((await drain(second)).map((m) => m.text)).toEqual(["1", "2"]);
    expect(other.pending).toBe(0);
    expect(broker.subscriberCount()).toBe(3);
    expect(broker.subscriberCount("a")).toBe(2);
  });

  it("wakes a waiting reader with the next message", async () => {
    const broker = new Broker<Note>({ queueLimit: 4 });
    const subscription = broker.subscribe("a");
    const waiting = subscription.take();
    broker.publish("a", note("hello"));
    await expect(waiting).resolves.toEqual(note("hello"));
  });

  it("replaces an unread message with the same conflation key in place", async () => {
    const broker = new Broker<Note>({ queueLimit: 10 });
    const subscription = broker.subscribe("a");
    broker.publish("a", note("count 1"), "count");
    broker.publish("a", note("beat 1"), "beat");
    broker.publish("a", note("count 2"), "count");
    broker.publish("a", note("count 3"), "count");
    broker.publish("a", note("beat 2"), "beat");
    expect((await drain(subscription)).map((m) => m.text)).toEqual(["count 3", "beat 2"]);
    // Once read, a key queues afresh.
    broker.publish("a", note("count 4"), "count");
    expect((await drain(subscription)).map((m) => m.text)).toEqual(["count 4"]);
  });

  it("never lets a keyed message overtake a message without a key", async () => {
    const broker = new Broker<Note>({ queueLimit: 10 });
    const subscription = broker.subscribe("a");
    broker.publish("a", note("count 1"), "count");
    broker.publish("a", note("details"));
    broker.publish("a", note("count 2"), "count");
    broker.publish("a", note("count 3"), "count");
    expect((await drain(subscription)).map((m) => m.text)).toEqual([
      "count 1",
      "details",
      "count 3",
    ]);
  });

  it("cuts a subscriber whose queue is full with RESOURCE_EXHAUSTED and leaves the others be", async () => {
    const broker = new Broker<Note>({ queueLimit: 3 });
    const stuck = broker.subscribe("a");
    const reader = broker.subscribe("a");
    const seen: string[] = [];
    for (let i = 1; i <= 5; i++) {
      broker.publish("a", note(String(i)));
      seen.push(...(await drain(reader)).map((m) => m.text));
    }
    expect(seen).toEqual(["1", "2", "3", "4", "5"]);
    expect(stuck.ended).toBe(true);
    expect(stuck.pending).toBe(0);
    expect(broker.subscriberCount("a")).toBe(1);
    const error = await stuck.take().then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.ResourceExhausted);
    expect((error as ConnectError).rawMessage).toBe("watcher fell behind");
  });

  it("counts a full queue only past conflation", async () => {
    const broker = new Broker<Note>({ queueLimit: 2 });
    const subscription = broker.subscribe("a");
    for (let i = 0; i < 1_000; i++) broker.publish("a", note(`count ${i}`), "count");
    expect(subscription.ended).toBe(false);
    expect((await drain(subscription)).map((m) => m.text)).toEqual(["count 999"]);
  });

  it("removes an aborted subscriber at once and ends its reader", async () => {
    const broker = new Broker<Note>({ queueLimit: 4 });
    const controller = new AbortController();
    const subscription = broker.subscribe("a", controller.signal);
    broker.publish("a", note("unread"));
    const reader = (async () => {
      const read: string[] = [];
      for await (const message of subscription) read.push(message.text);
      return read;
    })();
    await nextTurn();
    controller.abort();
    expect(broker.subscriberCount()).toBe(0);
    expect(broker.hasSubscribers("a")).toBe(false);
    expect(broker.publish("a", note("after"))).toBe(0);
    await expect(reader).resolves.toEqual(["unread"]);
  });

  it("does not subscribe with a signal that already aborted", async () => {
    const broker = new Broker<Note>({ queueLimit: 4 });
    const subscription = broker.subscribe("a", AbortSignal.abort());
    expect(subscription.ended).toBe(true);
    expect(broker.subscriberCount()).toBe(0);
    await expect(subscription.take()).resolves.toBeUndefined();
  });

  it("ends every subscriber with the given error", async () => {
    const broker = new Broker<Note>({ queueLimit: 4 });
    const a = broker.subscribe("a");
    const b = broker.subscribe("b");
    const waiting = a.take();
    broker.endAll(new ConnectError("server is shutting down", Code.Unavailable));
    await expect(waiting).rejects.toMatchObject({ code: Code.Unavailable });
    await expect(b.take()).rejects.toMatchObject({ code: Code.Unavailable });
    expect(broker.subscriberCount()).toBe(0);
  });

  it("rejects a queue limit that is not a positive integer", () => {
    expect(() => new Broker<Note>({ queueLimit: 0 })).toThrow(RangeError);
  });

  it("acceptance: 10,000 attendance changes, 100 readers, one subscriber that never reads", async () => {
    const queueLimit = 256;
    const broker = new Broker<WatchEventResponse>({ queueLimit });
    const stuck = broker.subscribe("event");
    const readers = Array.from({ length: 100 }, () => broker.subscribe("event"));

    interface View {
      attendeeCount: number;
      waitlistCount: number;
      title: string;
      received: number;
    }
    // Each reader keeps what a client would show, applying messages as they come.
    const views = readers.map(async (subscription): Promise<View> => {
      const view: View = { attendeeCount: 0, waitlistCount: 0, title: "", received: 0 };
      for await (const message of subscription) {
        view.received++;
        const change = message.change;
        if (change.case === "attendance") {
          view.attendeeCount = change.value.attendeeCount;
          view.waitlistCount = change.value.waitlistCount;
        } else if (change.case === "updated") {
          view.attendeeCount = change.value.attendeeCount;
          view.waitlistCount = change.value.waitlistCount;
          view.title = change.value.title;
        }
      }
      return view;
    });

    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let peakStuckQueue = 0;
    const changes = 10_000;
    const capacity = 100;
    let attendeeCount = 0;
    let waitlistCount = 0;
    let title = "";
    for (let i = 1; i <= changes; i++) {
      if (attendeeCount < capacity) attendeeCount++;
      else waitlistCount++;
      if (i % 20 === 0) {
        // A details change now and then: it carries whole-event state and is never conflated.
        title = `title ${i}`;
        broker.publish(
          "event",
          create(WatchEventResponseSchema, {
            change: {
              case: "updated",
              value: { id: "event", title, attendeeCount, waitlistCount },
            },
          }),
        );
      } else {
        broker.publish(
          "event",
          create(WatchEventResponseSchema, {
            change: {
              case: "attendance",
              value: { eventId: "event", attendeeCount, waitlistCount },
            },
          }),
          "attendance",
        );
      }
      peakStuckQueue = Math.max(peakStuckQueue, stuck.pending);
      // Let readers run between bursts, as the event loop would between database notices.
      if (i % 50 === 0) await nextTurn();
    }
    await nextTurn();
    for (const reader of readers) reader.end();
    const finalViews = await Promise.all(views);
    const stuckError = await stuck.take().then(
      () => undefined,
      (error: unknown) => error,
    );
    gc?.();
    const heapAfter = process.memoryUsage().heapUsed;

    for (const view of finalViews) {
      expect(view).toMatchObject({ attendeeCount, waitlistCount, title });
    }
    expect(stuckError).toBeInstanceOf(ConnectError);
    expect((stuckError as ConnectError).code).toBe(Code.ResourceExhausted);
    expect(peakStuckQueue).toBeLessThanOrEqual(queueLimit);
    expect(broker.subscriberCount()).toBe(0);
    const received = finalViews.map((v) => v.received);
    console.info(
      `broker acceptance: ${changes} changes; readers received ${Math.min(...received)}..${Math.max(...received)} messages each ` +
        `(conflated); stuck queue peaked at ${peakStuckQueue}/${queueLimit} before the cut; heapUsed ` +
        `${(heapBefore / 2 ** 20).toFixed(1)} MiB -> ${(heapAfter / 2 ** 20).toFixed(1)} MiB` +
        (gc ? " (after gc)" : " (no --expose-gc, so without gc)"),
    );
  });
});
