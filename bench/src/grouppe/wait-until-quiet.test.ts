import { describe, expect, it } from "vitest";
import { waitUntilQuiet } from "./wait-until-quiet.js";

/** A process whose CPU time goes up by these steps, one per reading after the first. */
function scripted(steps: number[]) {
  let total = 1_000;
  let reading = 0;
  const waits: number[] = [];
  return {
    waits,
    options: {
      cpuMs: async () => {
        if (reading > 0) total += steps[reading - 1] ?? 0;
        reading++;
        return total;
      },
      wait: async (ms: number) => void waits.push(ms),
    },
  };
}

describe("waitUntilQuiet", () => {
  it("waits while the process uses more than a tenth of a core, and stops at the first quiet interval", async () => {
    const process = scripted([100, 60, 20, 10, 90]);
    expect(await waitUntilQuiet(1, process.options)).toEqual({ waitedMs: 400, quiet: true });
    expect(process.waits).toEqual([100, 100, 100, 100]);
  });

  it("gives up after its limit when the process never goes quiet", async () => {
    const process = scripted(Array.from({ length: 100 }, () => 50));
    expect(await waitUntilQuiet(1, { ...process.options, maxMs: 1_000 })).toEqual({
      waitedMs: 1_000,
      quiet: false,
    });
    expect(process.waits).toHaveLength(10);
  });
});
