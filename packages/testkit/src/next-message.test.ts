import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { nextMessage } from "./next-message.js";

async function* messages(...values: string[]) {
  yield* values;
}

describe("nextMessage", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("returns the stream's next value", async () => {
    const stream = messages("a", "b");
    await expect(nextMessage(stream, { what: "a" })).resolves.toBe("a");
    await expect(nextMessage(stream, { what: "b" })).resolves.toBe("b");
  });

  it("fails when the stream ends first", async () => {
    await expect(nextMessage(messages(), { what: "a greeting" })).rejects.toThrow(
      "the stream ended while waiting for a greeting",
    );
  });

  it("fails, naming what it waited for, when nothing comes in time", async () => {
    const silent: AsyncIterator<string> = { next: () => new Promise(() => undefined) };
    const result = nextMessage(silent, { what: "a snapshot", timeoutMs: 5_000 });
    const settled = expect(result).rejects.toThrow("no a snapshot within 5000 ms");
    await vi.advanceTimersByTimeAsync(5_000);
    await settled;
  });
});
