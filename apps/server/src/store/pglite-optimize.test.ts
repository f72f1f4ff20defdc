import { expect, it } from "vitest";
import { choosePgliteOptimize, pgliteOptimizeChosen } from "./pglite-optimize.js";

it("fixes PGlite's compilation once per process and refuses a different choice later", () => {
  // Test files share modules, and every PGlite the tests start is optimized for memory.
  choosePgliteOptimize("memory");
  choosePgliteOptimize("memory");
  expect(pgliteOptimizeChosen()).toBe("memory");
  expect(() => choosePgliteOptimize("speed")).toThrow(
    "PGlite already runs optimized for memory in this process, not speed",
  );
  expect(pgliteOptimizeChosen()).toBe("memory");
});
