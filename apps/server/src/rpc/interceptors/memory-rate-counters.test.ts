import fc from "fast-check";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MemoryRateCounters } from "./memory-rate-counters.js";

const windowMs = 60_000;

describe("MemoryRateCounters", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("lets `limit` calls through per key and window, then says how long until the window ends", () => {
    const counters = new MemoryRateCounters({ windowMs });
    expect([1, 2, 3].map(() => counters.take("a", 3))).toEqual([undefined, undefined, undefined]);
    vi.advanceTimersByTime(20_000);
    expect(counters.take("a", 3)).toBe(40_000);
    expect(counters.take("b", 3)).toBeUndefined();
    vi.advanceTimersByTime(39_999);
    expect(counters.take("a", 3)).toBe(1);
    vi.advanceTimersByTime(1);
    // The key's window opened with its first call, 60 s ago: a new one opens.
    expect(counters.take("a", 3)).toBeUndefined();
  });

  it("forgets keys whose window ended, once a window has passed", () => {
    const counters = new MemoryRateCounters({ windowMs });
    for (let key = 0; key < 1_000; key++) counters.take(`ip:${key}`, 10);
    expect(counters.size).toBe(1_000);
    vi.advanceTimersByTime(windowMs);
    counters.take("late", 10);
    expect(counters.size).toBe(1);
  });

  it("answers as rate-limiter-flexible's RateLimiterMemory does, call for call", async () => {
    type Step = { key: number; advanceMs: number };
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(
          fc.record({
            key: fc.integer({ min: 0, max: 3 }),
            // Mostly small steps, sometimes across a window's end (or exactly onto it).
            advanceMs: fc.oneof(
              fc.integer({ min: 0, max: 2_000 }),
              fc.constantFrom(windowMs - 1, windowMs, windowMs + 1),
              fc.integer({ min: 0, max: 3 * windowMs }),
            ),
          }),
          { maxLength: 80 },
        ),
        async (limit: number, steps: Step[]) => {
          vi.setSystemTime(Date.UTC(2026, 0, 1));
          const reference = new RateLimiterMemory({ points: limit, duration: windowMs / 1000 });
          const counters = new MemoryRateCounters({ windowMs });
          for (const { key, advanceMs } of steps) {
            vi.advanceTimersByTime(advanceMs);
            const expected = await reference.consume(`k${key}`).then(
              () => undefined,
              (rejection: unknown) => {
                if (!(rejection instanceof RateLimiterRes)) throw rejection;
                return rejection.msBeforeNext;
              },
            );
            expect(counters.take(`k${key}`, limit)).toBe(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
