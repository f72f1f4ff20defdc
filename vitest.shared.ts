import { defineConfig } from "vitest/config";

/**
 * What every package's test run shares: the default console output, plus a JSON report that
 * `scripts/test.mjs` adds up into one closing line for the whole repository.
 */
export const sharedTestConfig = defineConfig({
  test: {
    reporters: ["default", ["json", { outputFile: "test-results.json" }]],
    // Bounds on a hang, not on speed: a loaded 2-core machine starts servers and browsers
    // slowly, and each test's own waits stay below these.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
