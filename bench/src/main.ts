#!/usr/bin/env node
/** `npm run bench -- [--quick] ...`: runs the bench, writes bench/results, prints the tables. */
import { benchUsage, parseBenchArgs } from "./bench-options.js";
import { renderMarkdown } from "./report/markdown-report.js";
import { writeReport } from "./report/write-report.js";
import { failurePrefix, runBench } from "./run-bench.js";

let options: ReturnType<typeof parseBenchArgs>;
try {
  options = parseBenchArgs(process.argv.slice(2));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}
if (options === "help") {
  console.log(benchUsage);
  process.exit(0);
}
const started = performance.now();
const report = await runBench(options, (line) =>
  console.error(`[bench ${((performance.now() - started) / 1_000).toFixed(0)}s] ${line}`),
);
const files = await writeReport(report, options.outDir);
console.log(renderMarkdown(report));
console.error(
  `wrote ${files.markdown}, ${files.json} and ${files.svg} in ${((performance.now() - started) / 1_000).toFixed(0)} s`,
);
if (report.notes.some((note) => note.startsWith(failurePrefix))) process.exitCode = 1;
