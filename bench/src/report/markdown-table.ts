/** A GitHub-flavoured Markdown table; cells are escaped for pipes. */
export function markdownTable(
  header: string[],
  rows: (string | number)[][],
  alignRight: number[] = [],
): string {
  const cell = (value: string | number) => String(value).replaceAll("|", "\\|");
  const divider = header.map((_, index) => (alignRight.includes(index) ? "---:" : "---"));
  return [header, divider, ...rows.map((row) => row.map(cell))]
    .map((row) => `| ${row.join(" | ")} |`)
    .join("\n");
}

/** A whole number with thousands separators. */
export function whole(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** Microseconds as milliseconds with two decimals. */
export function millis(micros: number): string {
  return (micros / 1_000).toFixed(2);
}

/** `{code: count}` as "code: count, ..." or "none". */
export function codes(counts: Record<string, number>): string {
  const entries = Object.entries(counts).filter(([, count]) => count > 0);
  return entries.length ? entries.map(([code, count]) => `${code}: ${count}`).join(", ") : "none";
}
