import type { BenchReport, ServerName } from "./report-types.js";

const servers: { name: ServerName; color: string }[] = [
  { name: "grouppe", color: "#2563eb" },
  { name: "grouppe (GROUPPE_ENGINE=connect)", color: "#93c5fd" },
  { name: "grouppe (baseline)", color: "#7c3aed" },
  { name: "connect-fastify", color: "#f59e0b" },
  { name: "grpc-js", color: "#10b981" },
  { name: "bare-http2", color: "#6b7280" },
];

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((candidate) => candidate * magnitude >= value) ?? 10;
  return step * magnitude;
}

/**
 * A grouped bar chart of throughput: one group per method and protocol, one bar per server
 * (grouppe on PGlite, the peers from memory).
 */
export function renderThroughputSvg(report: BenchReport): string {
  const rows = report.throughput.filter(
    (row) => row.storage !== "postgres" && row.method !== "JoinEvent+LeaveEvent",
  );
  const groups: { label: string; bars: { server: ServerName; color: string; value: number }[] }[] =
    [];
  for (const row of rows) {
    const label = `${row.method} ${row.protocol}`;
    let group = groups.find((candidate) => candidate.label === label);
    if (!group) {
      group = { label, bars: [] };
      groups.push(group);
    }
    const color = servers.find((server) => server.name === row.server)?.color ?? "#000";
    group.bars.push({ server: row.server, color, value: row.result.requestsPerSecond });
  }
  for (const group of groups) {
    group.bars.sort(
      (a, b) =>
        servers.findIndex((server) => server.name === a.server) -
        servers.findIndex((server) => server.name === b.server),
    );
  }
  const barWidth = 18;
  const groupGap = 26;
  const left = 70;
  const top = 50;
  const plotHeight = 300;
  const groupWidths = groups.map((group) => group.bars.length * barWidth + groupGap);
  const plotRight = left + groupWidths.reduce((sum, value) => sum + value, 0);
  // Room on the right for the last group's slanted label.
  const width = Math.max(480, plotRight + 140);
  const height = top + plotHeight + 120;
  const max = niceCeiling(
    Math.max(1, ...groups.flatMap((group) => group.bars.map((bar) => bar.value))),
  );
  const y = (value: number) => top + plotHeight - (value / max) * plotHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">Throughput (req/s) by method, protocol and server — ${escapeXml(report.mode)} run ${escapeXml(report.startedAt.slice(0, 10))}</text>`,
  ];
  for (let tick = 0; tick <= 4; tick++) {
    const value = (max / 4) * tick;
    parts.push(
      `<line x1="${left}" x2="${plotRight}" y1="${y(value)}" y2="${y(value)}" stroke="#e5e7eb"/>`,
      `<text x="${left - 6}" y="${y(value) + 4}" text-anchor="end">${Math.round(value).toLocaleString("en-US")}</text>`,
    );
  }
  let x = left + groupGap / 2;
  for (const [index, group] of groups.entries()) {
    for (const [barIndex, bar] of group.bars.entries()) {
      const barX = x + barIndex * barWidth;
      parts.push(
        `<rect x="${barX}" y="${y(bar.value)}" width="${barWidth - 2}" height="${top + plotHeight - y(bar.value)}" fill="${bar.color}"><title>${escapeXml(`${bar.server} ${group.label}: ${Math.round(bar.value)} req/s`)}</title></rect>`,
      );
    }
    const center = x + (group.bars.length * barWidth) / 2;
    parts.push(
      `<text transform="translate(${center},${top + plotHeight + 12}) rotate(35)" text-anchor="start">${escapeXml(group.label)}</text>`,
    );
    x += groupWidths[index] ?? 0;
  }
  let legendX = left;
  for (const server of servers) {
    parts.push(
      `<rect x="${legendX}" y="30" width="10" height="10" fill="${server.color}"/>`,
      `<text x="${legendX + 14}" y="39">${server.name}</text>`,
    );
    legendX += 110;
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
