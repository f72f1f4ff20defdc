import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig, mergeConfig } from "vitest/config";
import { sharedTestConfig } from "../../vitest.shared.js";

// Unit tests compile `.svelte.ts` modules (runes) with the Svelte plugin; the end-to-end tests
// in test/ drive the built app in Chromium against the real server.
export default mergeConfig(
  sharedTestConfig,
  defineConfig({
    plugins: [svelte({ configFile: false })],
    test: {
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      // A bound on a hang: one browser walk-through takes 20-30 s alone, and twice that beside
      // the rest of the suite on 2 cores.
      testTimeout: 180_000,
      hookTimeout: 180_000,
    },
  }),
);
