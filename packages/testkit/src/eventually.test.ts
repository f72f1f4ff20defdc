import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { eventually } from "./eventually.js";

describe("eventually", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("resolves with the first value that is not false", async () => {
    let calls = 0;
    const result = eventually(() => (++calls >= 3 ? `after ${calls}` : false), {
      what: "the third call",
    });
    await vi.advanceTimersByTimeAsync(100);
    await expect(result).resolves.toBe("after 3");
  });

  it("keeps trying while the check throws", async () => {
    let calls = 0;
    const result = eventually(
      () => {
        if (++calls < 2) throw new Error("not yet");
        return 0;
      },
      { what: "a value" },
    );
    await vi.advanceTimersByTimeAsync(100);
    await expect(result).resolves.toBe(0);
  });

  it("fails after the timeout, saying what, how long and the last error", async () => {
    const result = eventually(
      () => {
        throw new Error("connection refused");
      },
      { what: "the server answers", timeoutMs: 1_000, intervalMs: 100 },
    );
    const settled = expect(result).rejects.toThrow(
      /^the server answers: not seen after 1\d{3} ms \(\d+ checks\); last error: connection refused$/,
    );
    await vi.advanceTimersByTimeAsync(1_200);
    await settled;
  });
});
