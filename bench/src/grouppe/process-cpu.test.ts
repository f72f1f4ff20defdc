import { describe, expect, it } from "vitest";
import { processCpuMs } from "./process-cpu.js";

describe.skipIf(process.platform !== "linux")("processCpuMs", () => {
  it("reads this process's CPU time, close to what Node itself counts, and it grows with work", async () => {
    const before = await processCpuMs(process.pid);
    const usage = process.cpuUsage();
    const own = (usage.user + usage.system) / 1_000;
    // Ticks are 10 ms; the two readings are taken moments apart.
    expect(Math.abs(before - own)).toBeLessThan(50);
    const until = performance.now() + 200;
    while (performance.now() < until) Math.sqrt(Math.random());
    expect(await processCpuMs(process.pid)).toBeGreaterThan(before + 100);
  });
});
