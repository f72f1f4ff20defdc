import { defineConfig, mergeConfig } from "vitest/config";
import { sharedTestConfig } from "../../vitest.shared.js";

export default mergeConfig(
  sharedTestConfig,
  defineConfig({
    // The two end-to-end files mostly wait on server processes they start and restart, so
    // they run side by side (Vitest's default on 2 cores is one file at a time).
    test: { maxWorkers: 2 },
  }),
);
