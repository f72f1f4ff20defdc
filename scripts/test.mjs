// @ts-check
// `npm test`: runs every package's tests through turbo, then adds up their JSON reports into
// one closing line, "Tests: N passed, N failed, N skipped", so a whole-repository run ends with
// a single verdict whatever the number of packages.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const packageDirs = ["apps", "packages"]
  .flatMap((group) =>
    existsSync(join(root, group))
      ? readdirSync(join(root, group)).map((name) => join(root, group, name))
      : [],
  )
  .concat(join(root, "bench"));
const reports = packageDirs.map((dir) => join(dir, "test-results.json"));
for (const report of reports) rmSync(report, { force: true });

const turbo = spawnSync(
  "npx",
  ["turbo", "run", "test", "--continue", "--output-logs=new-only", ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: "inherit",
  },
);

let passed = 0;
let failed = 0;
let skipped = 0;
for (const report of reports) {
  if (!existsSync(report)) continue;
  const result = JSON.parse(readFileSync(report, "utf8"));
  passed += result.numPassedTests;
  failed += result.numFailedTests;
  skipped += result.numPendingTests + result.numTodoTests;
  // A file that failed to load has no tests in it but is still a failure.
  failed += result.testResults.filter(
    (/** @type {any} */ f) => f.status === "failed" && f.assertionResults.length === 0,
  ).length;
}
const status = turbo.status ?? 1;
if (status !== 0 && failed === 0) failed = 1;
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(status);
