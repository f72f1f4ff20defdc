import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  followStream,
  isRetryableStreamError,
  type StreamStatus,
} from "./follow-stream.js";

const fastBackoff = { initialMs: 1, maxMs: 4 };

describe("followStream", () => {
  it("reconnects after UNAVAILABLE and after a clean end, and stops when told", async () => {
    const attempts: number[] = [];
    const statuses: StreamStatus[] = [];
    const received: string[] = [];
    let opened = 0;
    await followStream<string>({
      signal: new AbortController().signal,
      backoff: fastBackoff,
      open: async function* ({ onHeader }) {
        opened += 1;
        attempts.push(opened);
        onHeader();
        if (opened === 1) throw new ConnectError("server restarting", Code.Unavailable);
        if (opened === 2) {
          yield "snapshot";
          return;
        }
        yield "snapshot-again";
        yield "deleted";
      },
      onMessage: (message) => {
        received.push(message);
        return message === "deleted" ? "stop" : undefined;
      },
      onStatus: (status) => statuses.push(status),
    });
    expect(attempts).toEqual([1, 2, 3]);
    expect(received).toEqual(["snapshot", "snapshot-again", "deleted"]);
    expect(statuses[0]).toBe("connecting");
    expect(statuses).toContain("reconnecting");
    expect(statuses.at(-1)).toBe("stopped");
  });

  it("gives up on errors that would only repeat", async () => {
    let opened = 0;
    let final: ConnectError | undefined;
    await followStream<string>({
      signal: new AbortController().signal,
      backoff: fastBackoff,
      // biome-ignore lint/correctness/useYield: the stream fails before its first message
      open: async function* () {
        opened += 1;
        throw new ConnectError("no such event", Code.NotFound);
      },
      onMessage: () => undefined,
      onStatus: (status, error) => {
        if (status === "stopped") final = error;
      },
    });
    expect(opened).toBe(1);
    expect(final?.code).toBe(Code.NotFound);
  });

  it("stops when the signal aborts, even while waiting to reconnect", async () => {
    const controller = new AbortController();
    let opened = 0;
    await followStream<string>({
      signal: controller.signal,
      backoff: { initialMs: 60_000, maxMs: 60_000 },
      open: async function* () {
        opened += 1;
        queueMicrotask(() => controller.abort());
        throw new ConnectError("gone", Code.Unavailable);
      },
      onMessage: () => undefined,
    });
    expect(opened).toBe(1);
  });

  it("reconnects a stream that goes quiet for longer than the idle timeout", async () => {
    let opened = 0;
    await followStream<string>({
      signal: new AbortController().signal,
      backoff: fastBackoff,
      idleTimeoutMs: 20,
      open: async function* ({ signal }) {
        opened += 1;
        if (opened === 2) {
          yield "hello";
          return;
        }
        // Silent until the idle timer aborts the attempt.
        await new Promise((_, reject) =>
          signal.addEventListener("abort", () =>
            reject(new ConnectError("aborted", Code.Canceled)),
          ),
        );
      },
      onMessage: () => "stop",
    });
    expect(opened).toBe(2);
  });
});

describe("backoff", () => {
  it("grows exponentially up to the cap, with jitter in between", () => {
    const backoff = { initialMs: 500, maxMs: 30_000 };
    expect(backoffDelay(1, backoff, () => 1)).toBe(500);
    expect(backoffDelay(3, backoff, () => 1)).toBe(2_000);
    expect(backoffDelay(20, backoff, () => 1)).toBe(30_000);
    expect(backoffDelay(20, backoff, () => 0)).toBe(250);
  });

  it("retries only when the server or the network went away", () => {
    expect(isRetryableStreamError(new ConnectError("", Code.Unavailable))).toBe(true);
    expect(isRetryableStreamError(ConnectError.from(new TypeError("network error")))).toBe(true);
    expect(isRetryableStreamError(new ConnectError("", Code.PermissionDenied))).toBe(false);
    expect(isRetryableStreamError(new ConnectError("", Code.Unknown))).toBe(false);
  });
});
