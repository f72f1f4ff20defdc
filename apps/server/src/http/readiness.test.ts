import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Readiness } from "./readiness.js";

describe("Readiness", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("answers from the last check: reads cost no check, the interval does", async () => {
    let checks = 0;
    let healthy = true;
    const readiness = new Readiness({
      check: async () => {
        checks++;
        return healthy;
      },
      intervalMs: 1_000,
      timeoutMs: 500,
    });
    await readiness.start();
    expect([readiness.ready, checks]).toEqual([true, 1]);
    for (let i = 0; i < 1_000; i++) expect(readiness.ready).toBe(true);
    expect(checks).toBe(1);
    healthy = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect([readiness.ready, checks]).toEqual([false, 2]);
    readiness.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(checks).toBe(2);
  });

  it("counts a check that hangs or throws as not ready, and never overlaps checks", async () => {
    let running = 0;
    let most = 0;
    let mode: "hang" | "throw" | "ok" = "hang";
    const readiness = new Readiness({
      check: () => {
        running++;
        most = Math.max(most, running);
        if (mode === "throw") {
          running--;
          return Promise.reject(new Error("connection refused"));
        }
        if (mode === "ok") {
          running--;
          return Promise.resolve(true);
        }
        return new Promise<boolean>(() => undefined);
      },
      intervalMs: 100,
      timeoutMs: 300,
    });
    const started = readiness.start();
    await vi.advanceTimersByTimeAsync(300);
    await started;
    expect(readiness.ready).toBe(false);
    mode = "throw";
    running = 0;
    await vi.advanceTimersByTimeAsync(100);
    expect(readiness.ready).toBe(false);
    mode = "ok";
    await vi.advanceTimersByTimeAsync(100);
    expect(readiness.ready).toBe(true);
    expect(most).toBe(1);
    readiness.stop();
    expect(readiness.ready).toBe(false);
  });
});
