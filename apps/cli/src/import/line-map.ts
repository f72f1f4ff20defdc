/**
 * Remembers which file line each row sent to the server came from, so the server's row
 * positions can be reported as line numbers. It keeps only the places where the lines stop
 * running one per row (skipped rows, blank lines, quoted line breaks), so a file of ten million
 * rows costs a few bytes, not ten million numbers.
 */
export class LineMap {
  readonly #indexes: number[] = [];
  readonly #lines: number[] = [];

  /** Records that the row at stream position `index` came from `line`; call in index order. */
  add(index: number, line: number): void {
    const last = this.#indexes.length - 1;
    const lastIndex = this.#indexes[last];
    const lastLine = this.#lines[last];
    if (
      lastIndex !== undefined &&
      lastLine !== undefined &&
      lastLine + (index - lastIndex) === line
    ) {
      return;
    }
    this.#indexes.push(index);
    this.#lines.push(line);
  }

  /** The line the row at stream position `index` came from. */
  lineOf(index: number): number {
    let low = 0;
    let high = this.#indexes.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((this.#indexes[middle] ?? 0) <= index) low = middle;
      else high = middle - 1;
    }
    return (this.#lines[low] ?? 0) + (index - (this.#indexes[low] ?? 0));
  }

  /** How many places are kept; for tests. */
  get size(): number {
    return this.#indexes.length;
  }
}
