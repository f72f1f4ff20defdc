import { Presets, SingleBar } from "cli-progress";
import type { TextOutput } from "../cli-io.js";

/**
 * Room the bar's text takes besides the bar itself, at its widest ("importing |", "| 100% |
 * 1000000 rows | 100000 rows/s | ETA 1h20m"). The bar keeps auto-wrap off while it draws, so
 * a line wider than the terminal loses its end, which is where rows/s and the ETA are.
 */
const textColumns = 60;

/** The bar's width on a terminal `columns` wide (80 when it does not say). */
function barSize(columns: number | undefined): number {
  return Math.max(10, Math.min(40, (columns || 80) - textColumns));
}

/** How often the plain progress line is written when stderr is not a terminal. */
const plainEveryMs = 2_000;

/** Shows how an import goes: a bar on a terminal, a line every few seconds elsewhere. */
export interface ImportProgress {
  /** `bytes` of the file read so far, `rows` taken so far. */
  update(bytes: number, rows: number): void;
  stop(): void;
}

function rate(rows: number, startedAt: number): number {
  const seconds = (performance.now() - startedAt) / 1000;
  return seconds > 0 ? Math.round(rows / seconds) : 0;
}

/** Progress over a file of `totalBytes`, written to `output` (stderr). */
export function createImportProgress(output: TextOutput, totalBytes: number): ImportProgress {
  const startedAt = performance.now();
  if (output.isTTY) {
    const stream = output as NodeJS.WriteStream;
    const bar = new SingleBar(
      {
        // cli-progress only draws on a real terminal stream, which a TTY output is.
        stream,
        format:
          "importing |{bar}| {percentage}% | {rows} rows | {speed} rows/s | ETA {eta_formatted}",
        barsize: barSize(stream.columns),
        etaBuffer: 50,
        fps: 10,
        hideCursor: true,
      },
      Presets.shades_classic,
    );
    bar.start(Math.max(1, totalBytes), 0, { rows: 0, speed: 0 });
    return {
      update: (bytes, rows) => bar.update(bytes, { rows, speed: rate(rows, startedAt) }),
      stop: () => bar.stop(),
    };
  }
  let lastAt = startedAt;
  let last = { bytes: 0, rows: 0 };
  const write = (bytes: number, rows: number) => {
    const now = performance.now();
    lastAt = now;
    const fraction = totalBytes > 0 ? Math.min(1, bytes / totalBytes) : 0;
    const speed = rate(rows, startedAt);
    const etaSeconds =
      fraction > 0 ? Math.round(((now - startedAt) / 1000) * ((1 - fraction) / fraction)) : 0;
    output.write(
      `importing: ${rows} rows, ${Math.floor(fraction * 100)}% of the file, ${speed} rows/s, ETA ${etaSeconds} s\n`,
    );
  };
  return {
    update(bytes, rows) {
      last = { bytes, rows };
      if (performance.now() - lastAt >= plainEveryMs) write(bytes, rows);
    },
    // A last line with where the reading ended, however short the import was.
    stop: () => write(last.bytes, last.rows),
  };
}
