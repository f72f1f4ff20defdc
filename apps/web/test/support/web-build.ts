import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The web app's workspace directory. */
export const webRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** The production build the grouppe server serves. */
export const defaultBuildDir = join(webRoot, "build");

/**
 * The built app, which `npm test` makes before the tests (turbo's test task depends on the
 * build); a test run alone says how to make it instead of testing a missing or stale app.
 */
export function builtWebApp(): string {
  if (!existsSync(join(defaultBuildDir, "200.html")))
    throw new Error(`no built web app in ${defaultBuildDir}: run "npm run build" first`);
  return defaultBuildDir;
}
