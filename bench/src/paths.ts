import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const runningFromSource = import.meta.url.endsWith(".ts");

/** The bench workspace (`bench/`), whether this code runs from `src` or from `dist`. */
export const benchRoot = resolve(here, "..");

/** The repository root. */
export const repoRoot = resolve(benchRoot, "..");

/** The grouppe server workspace; `npm start` runs `node dist/main.js` from here. */
export const serverRoot = resolve(repoRoot, "apps/server");

/** The built grouppe entry point that `npm start` runs. */
export const serverMain = resolve(serverRoot, "dist/main.js");

/** Where reports go unless told otherwise. */
export const defaultResultsDir = resolve(benchRoot, "results");

/** How to start one of this package's modules as its own Node process. */
export interface ModuleCommand {
  file: string;
  execArgv: string[];
}

/**
 * The file and Node flags that run a module of this package (path relative to `src`, without
 * extension) in a child process: the built `.js` normally, the `.ts` source through tsx when
 * the caller itself runs from source (the smoke test).
 */
export function moduleCommand(modulePath: string): ModuleCommand {
  if (runningFromSource) {
    return { file: resolve(here, `${modulePath}.ts`), execArgv: ["--import", "tsx"] };
  }
  const file = resolve(here, `${modulePath}.js`);
  if (!existsSync(file)) throw new Error(`${file} is missing; build the bench first`);
  return { file, execArgv: [] };
}
