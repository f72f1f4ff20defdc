import { defineConfig } from "vitest/config";

/**
 * What every package's test run shares: the default console output, plus a JSON report that
 * `scripts/test.mjs` adds up into one closing line for the whole repository.
 */
export const sharedTestConfig = defineConfig({
  test: {
    reporters: ["default", ["json", { outputFile: "test-results.json" }]],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
