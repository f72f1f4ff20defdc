import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium, or CHROMIUM_PATH. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Whether browser tests can run. Outside CI a missing Chromium skips them with one line; in CI
 * it fails the run, so a broken image never passes quietly.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(chromiumPath)) return true;
  if (process.env.CI) throw new Error(`Chromium not found at ${chromiumPath}; CI needs it`);
  console.warn(`skipping browser tests: no Chromium at ${chromiumPath} (set CHROMIUM_PATH)`);
  return false;
}

/**
 * What every test's browser context asks for: reduced motion. The live indicator's endless
 * pulse otherwise keeps Chromium painting every frame, a quarter of a core per open page, with
 * nothing under test in it.
 */
export const testContextOptions = { reducedMotion: "reduce" } as const;

/** Starts headless Chromium the way the test machines can run it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    timeout: 60_000,
  });
}
