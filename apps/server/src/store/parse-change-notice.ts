import type { ChangeNotice } from "./records.js";

/** Parses a NOTIFY payload; undefined when it is not a well-formed {@link ChangeNotice}. */
export function parseChangeNotice(payload: string): ChangeNotice | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { e, v, k } = value as Record<string, unknown>;
  if (typeof e !== "string" || e.length === 0 || e.length > 64) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) return undefined;
  if (
    k !== "created" &&
    k !== "updated" &&
    k !== "attendance" &&
    k !== "cancelled" &&
    k !== "deleted"
  ) {
    return undefined;
  }
  return { e, v, k };
}
