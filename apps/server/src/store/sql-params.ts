/** Collects the parameters of a query built piece by piece and hands out their `$n` names. */
export class SqlParams {
  readonly values: unknown[] = [];

  /** Adds a parameter and returns its placeholder. */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** Escapes `%`, `_` and `\` so `text` matches itself literally inside a LIKE pattern. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, "\\$&");
}
