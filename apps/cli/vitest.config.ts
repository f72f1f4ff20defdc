import { defineConfig, mergeConfig } from "vitest/config";
import { sharedTestConfig } from "../../vitest.shared.js";

export default mergeConfig(
  sharedTestConfig,
  defineConfig({
    // A bound on a hang: the README examples and the import start dozens of CLI processes
    // against a server process, which beside the rest of the suite on 2 cores took over 60 s.
    test: { testTimeout: 180_000 },
  }),
);
