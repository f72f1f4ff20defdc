import { defineConfig, mergeConfig } from "vitest/config";
import { sharedTestConfig } from "../../vitest.shared.js";

export default mergeConfig(
  sharedTestConfig,
  defineConfig({
    test: {
      // Vitest's default is one worker fewer than there are cores: on 2 cores, one, and the
      // server's 50-odd files ran one after another. Most of them wait on servers, processes
      // and sockets rather than compute, so three at a time use the idle time; the other
      // packages' heavier files (Chromium, the bench, the CLI's process restarts) keep one.
      maxWorkers: 3,
    },
  }),
);
