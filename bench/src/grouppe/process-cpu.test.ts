import { describe, expect, it } from "vitest";
import { processCpuMs } from "./process-cpu.js";

describe.skipIf(process.platform !== "linux")("processCpuMs", () => {
  it("reads this process's CPU time, close to what Node itself counts, and it grows with work done", async () => {
    const before = await processCpuMs(process.pid);
    const usage = process.cpuUsage();
    const own = (usage.user + usage.system) / 1_000;
    // Ticks are 10 ms; the two readings are taken moments apart.
    expect(Math.abs(before - own)).toBeLessThan(50);
    // Work until Node itself counts 200 ms more CPU, however long that takes on a busy machine.
    const start = process.cpuUsage();
    let spentMs = 0;
    while (spentMs < 200) {
      for (let i = 0; i < 100_000; i++) Math.sqrt(Math.random());
      const spent = process.cpuUsage(start);
      spentMs = (spent.user + spent.system) / 1_000;
    }
    expect(await processCpuMs(process.pid)).toBeGreaterThan(before + 150);
  });
});
