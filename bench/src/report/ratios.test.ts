import { describe, expect, it } from "vitest";
import { check } from "./ratios.js";

describe("check", () => {
  it("says by how much a target is missed, in either direction", () => {
    expect(check("a", 0.8, ">=", 1, "x").verdict).toBe("missed by 20.0%: 0.80x, needs 1.00x");
    expect(check("b", 30, "<=", 25, "KiB")).toMatchObject({
      met: false,
      verdict: "missed by 20.0%: 30.0 KiB, limit 25.0 KiB",
    });
    expect(check("c", 90_000, ">=", 80_000, "msgs/s")).toMatchObject({ met: true });
    expect(check("d", undefined, ">=", 1, "x")).toMatchObject({
      met: undefined,
      verdict: "not measured in this run",
    });
  });
});
