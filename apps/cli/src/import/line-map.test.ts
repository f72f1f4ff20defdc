import { describe, expect, it } from "vitest";
import { LineMap } from "./line-map.js";

describe("LineMap", () => {
  it("gives the line of every row, across skipped lines, in few places", () => {
    const map = new LineMap();
    // Rows on lines 2..1001, then a gap (a rejected row on 1002, a blank line), then 1004..2003.
    for (let index = 0; index < 1_000; index++) map.add(index, index + 2);
    for (let index = 1_000; index < 2_000; index++) map.add(index, index + 4);
    expect(map.lineOf(0)).toBe(2);
    expect(map.lineOf(999)).toBe(1001);
    expect(map.lineOf(1_000)).toBe(1004);
    expect(map.lineOf(1_999)).toBe(2003);
    expect(map.size).toBe(2);
  });
});
