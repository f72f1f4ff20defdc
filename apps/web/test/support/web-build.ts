import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The web app's workspace directory. */
export const webRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** The production build the grouppe server serves. */
export const defaultBuildDir = join(webRoot, "build");

const sources = ["src", "static", "vite.config.ts", "package.json"];

function newestSourceMs(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(
    stat.mtimeMs,
    ...readdirSync(path)
      .filter((name) => !name.endsWith(".test.ts"))
      .map((name) => newestSourceMs(join(path, name))),
  );
}

/** Runs `vite build`, with extra environment (VITE_GROUPPE_TRANSPORT, GROUPPE_WEB_BUILD_DIR). */
export async function buildWeb(env: Record<string, string> = {}): Promise<void> {
  const vite = join(webRoot, "..", "..", "node_modules", "vite", "bin", "vite.js");
  const child = spawn(process.execPath, [vite, "build", "--logLevel", "error"], {
    cwd: webRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const code = await new Promise<number | null>((done, fail) => {
    const timer = setTimeout(() => {
      child.kill();
      fail(new Error(`vite build took over 4 minutes:\n${output}`));
    }, 240_000);
    child.on("exit", (exitCode) => {
      clearTimeout(timer);
      done(exitCode);
    });
  });
  if (code !== 0) throw new Error(`vite build failed (${code}):\n${output}`);
}

/**
 * Makes sure `build/` holds the current app: the server serves what is there, so a build older
 * than the sources would test yesterday's app.
 */
export async function ensureFreshBuild(): Promise<string> {
  const page = join(defaultBuildDir, "200.html");
  const builtMs = existsSync(page) ? statSync(page).mtimeMs : 0;
  const sourceMs = Math.max(...sources.map((source) => newestSourceMs(join(webRoot, source))));
  if (builtMs < sourceMs) await buildWeb();
  return defaultBuildDir;
}
