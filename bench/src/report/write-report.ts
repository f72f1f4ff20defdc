import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderMarkdown } from "./markdown-report.js";
import type { BenchReport } from "./report-types.js";
import { renderThroughputSvg } from "./svg-chart.js";

/** The files one report is written to. */
export interface ReportFiles {
  markdown: string;
  json: string;
  svg: string;
}

/** Writes `latest.md`, `latest.json` and `throughput.svg` into `dir`. */
export async function writeReport(report: BenchReport, dir: string): Promise<ReportFiles> {
  await mkdir(dir, { recursive: true });
  const files = {
    markdown: join(dir, "latest.md"),
    json: join(dir, "latest.json"),
    svg: join(dir, "throughput.svg"),
  };
  const markdown = renderMarkdown(report).replace(
    "## Unary throughput and latency\n",
    "## Unary throughput and latency\n\n![Throughput by protocol and server](throughput.svg)\n",
  );
  await writeFile(files.markdown, markdown);
  await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files.svg, renderThroughputSvg(report));
  return files;
}
