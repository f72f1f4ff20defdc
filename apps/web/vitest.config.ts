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
      testTimeout: 60_000,
      hookTimeout: 180_000,
    },
  }),
);
