import { codes, markdownTable, millis, whole } from "./markdown-table.js";
import { ratio } from "./ratios.js";
import { type BenchReport, baselineGrouppe } from "./report-types.js";

function targetsSection(report: BenchReport): string {
  return markdownTable(
    ["Figure", "Value", "Target", "Verdict"],
    report.ratios.map((ratio) => [
      ratio.name,
      ratio.value === undefined
        ? "-"
        : ratio.unit === "x"
          ? ratio.value.toFixed(2)
          : ratio.value.toFixed(1),
      `${ratio.comparison} ${ratio.target}${ratio.unit === "x" ? "" : ` ${ratio.unit}`}`,
      ratio.verdict,
    ]),
  );
}

function throughputSection(report: BenchReport): string {
  return markdownTable(
    [
      "Server",
      "Storage",
      "Method",
      "Protocol",
      "Transport",
      "Concurrency",
      "req/s",
      "p50 ms",
      "p90 ms",
      "p99 ms",
      "Errors",
      "Engine",
      "Rounds req/s",
    ],
    report.throughput.map((row) => [
      row.server,
      row.storage,
      row.method,
      row.protocol,
      row.transport,
      row.concurrency,
      whole(row.result.requestsPerSecond),
      millis(row.result.latencyUs.p50),
      millis(row.result.latencyUs.p90),
      millis(row.result.latencyUs.p99),
      codes(row.result.errors),
      row.result.engine,
      (row.roundsRequestsPerSecond ?? []).map(whole).join(" / "),
    ]),
    [6, 7, 8, 9],
  );
}

function fanoutSection(report: BenchReport): string {
  return markdownTable(
    [
      "Server",
      "Storage",
      "Watchers (open)",
      "Sessions",
      "Writes/s",
      "Msgs delivered/s",
      "Server CPU ms per 1,000 msgs",
      "Per watcher min-max",
      "Latency p50 ms",
      "Latency p99 ms",
      "From ack p50/p99 ms",
      "Errors",
    ],
    report.fanout.map((row) => [
      row.server ?? "grouppe",
      row.storage,
      `${row.watchers} (${row.watching})`,
      row.sessions,
      whole(row.writesPerSecond),
      whole(row.messagesPerSecond),
      row.serverCpuMsPerThousand === undefined ? "" : row.serverCpuMsPerThousand.toFixed(1),
      `${row.perWatcher.min}-${row.perWatcher.max}`,
      millis(row.latencyFromSendUs.p50),
      millis(row.latencyFromSendUs.p99),
      `${millis(row.latencyFromAckUs.p50)} / ${millis(row.latencyFromAckUs.p99)}`,
      codes({ ...row.writeErrors, ...row.streamErrors }),
    ]),
    [3, 4, 5, 6, 8, 9],
  );
}

function idleSection(report: BenchReport): string {
  return markdownTable(
    [
      "Storage",
      "Connections open",
      "RSS before KiB",
      "RSS after KiB",
      "KiB per connection",
      "Failed",
    ],
    report.idleConnections.map((row) => [
      row.storage,
      `${whole(row.opened)} of ${whole(row.target)}`,
      whole(row.rssBeforeKib),
      whole(row.rssAfterKib),
      row.perConnectionKib.toFixed(1),
      codes(row.failed),
    ]),
    [2, 3, 4],
  );
}

function startupSection(report: BenchReport): string {
  return markdownTable(
    ["Storage", "Kind", "Median ms", "Runs ms", "Idle RSS MiB", "Peak RSS MiB"],
    report.startup.map((row) => [
      row.storage,
      row.kind,
      row.medianMs,
      row.millis.join(", "),
      row.idleRssMib ?? "",
      row.peakRssMib ?? "",
    ]),
    [2, 4, 5],
  );
}

/** This build against `--baseline`'s, case by case, when the run had one. */
function baselineSection(report: BenchReport): string[] {
  const rows = report.throughput.flatMap((before) => {
    if (before.server !== baselineGrouppe) return [];
    const after = report.throughput.find(
      (row) =>
        row.server === "grouppe" &&
        row.storage === before.storage &&
        row.method === before.method &&
        row.protocol === before.protocol,
    );
    const value = ratio(after, before);
    if (after === undefined || value === undefined) return [];
    return [
      [
        before.method,
        before.protocol,
        whole(after.result.requestsPerSecond),
        whole(before.result.requestsPerSecond),
        value.toFixed(2),
      ],
    ];
  });
  if (rows.length === 0) return [];
  return [
    "## This build against the baseline",
    "",
    "Ratios are medians of the ratios round by round, as in Targets.",
    "",
    markdownTable(
      ["Method", "Protocol", "grouppe req/s", "baseline req/s", "grouppe / baseline"],
      rows,
      [2, 3, 4],
    ),
    "",
  ];
}

function importSection(report: BenchReport): string {
  if (report.imports.length === 0) return "Not measured in this run.";
  return markdownTable(
    ["Storage", "Kind", "Rows", "Created", "Already present", "Seconds", "Events/s"],
    report.imports.map((row) => [
      row.storage,
      row.kind,
      row.rows,
      row.created,
      row.alreadyPresent,
      row.seconds.toFixed(2),
      row.eventsPerSecond,
    ]),
    [2, 3, 4, 5, 6],
  );
}

function profileSection(report: BenchReport): string {
  const { profile } = report;
  if (!profile) return "Not profiled in this run.";
  return [
    `${profile.workload}; ${whole(profile.sampledMs)} ms sampled, ${profile.idlePercent}% idle. Shares are of busy time.`,
    "",
    markdownTable(
      ["Self %", "Self ms", "Function", "Location"],
      profile.frames.map((frame) => [
        frame.selfPercent.toFixed(1),
        frame.selfMs.toFixed(1),
        frame.functionName,
        frame.location,
      ]),
      [0, 1],
    ),
  ].join("\n");
}

/** The report as Markdown: the tables `latest.md` holds and the bench prints. */
export function renderMarkdown(report: BenchReport): string {
  const { machine } = report;
  return [
    `# grouppe bench (${report.mode})`,
    "",
    `Run ${report.startedAt} to ${report.finishedAt} on ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGib} GiB, ${machine.platform}, Node ${machine.node}; load average at start ${machine.loadAverage.map((value) => value.toFixed(2)).join(" / ")}.`,
    `Load generator: ${report.loadGenerator}. Each server and each load generator runs in its own process.`,
    ...(report.serverWarmUp ? [`Warm-up: ${report.serverWarmUp}.`] : []),
    ...(report.unaryMethod ? [`Unary cases: ${report.unaryMethod}.`] : []),
    `grouppe env for the bench: ${Object.entries(report.serverEnv)
      .map(([name, value]) => `${name}=${value}`)
      .join(" ")}.`,
    "",
    "## Targets",
    "",
    targetsSection(report),
    "",
    "## Unary throughput and latency",
    "",
    throughputSection(report),
    "",
    ...baselineSection(report),
    "## WatchEvent fan-out",
    "",
    "Latency is from sending the JoinEvent/LeaveEvent to the Attendance message's arrival (an upper bound of commit to arrival); the 'from ack' column starts at the write's response instead (a lower bound).",
    "",
    fanoutSection(report),
    "",
    "## Idle HTTP/2 connections",
    "",
    idleSection(report),
    "",
    "## Start-up (node dist/main.js to /readyz 200)",
    "",
    startupSection(report),
    "",
    "## Bulk import (grouppe import of a 10,000-row CSV over gRPC with mTLS)",
    "",
    importSection(report),
    "",
    "## CPU profile of the gRPC unary path",
    "",
    profileSection(report),
    "",
    "## Notes",
    "",
    report.notes.length ? report.notes.map((note) => `- ${note}`).join("\n") : "- none",
    "",
  ].join("\n");
}
