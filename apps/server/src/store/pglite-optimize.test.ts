import { expect, it } from "vitest";
import { choosePgliteOptimize, pgliteOptimizeChosen } from "./pglite-optimize.js";

it("fixes PGlite's compilation once per process and refuses a different choice later", () => {
  // Nothing in this test file has started PGlite, so nothing has chosen yet.
  expect(pgliteOptimizeChosen()).toBeUndefined();
  choosePgliteOptimize("memory");
  choosePgliteOptimize("memory");
  expect(pgliteOptimizeChosen()).toBe("memory");
  expect(() => choosePgliteOptimize("speed")).toThrow(
    "PGlite already runs optimized for memory in this process, not speed",
  );
});
