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
    // Test files share their worker's module cache instead of each re-importing Fastify,
    // connect-es and PGlite (and compiling PGlite's WebAssembly) in a fresh process: the server
    // suite used 40% less CPU this way. Every file starts and stops its own servers and
    // restores what it stubs, so nothing a file leaves behind is read by the next.
    isolate: false,
    hookTimeout: 120_000,
  },
});
