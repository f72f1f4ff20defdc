import { createHash } from "node:crypto";
import { invalidArgument } from "../errors.js";

/**
 * Opaque page tokens (AIP-158): the position after the last row of a page plus a fingerprint of
 * the filters, so a token is only accepted with the query that produced it.
 */
export function encodePageToken(position: unknown, filters: unknown): string {
  return Buffer.from(JSON.stringify({ p: position, f: fingerprint(filters) })).toString(
    "base64url",
  );
}

/** The position a token names; INVALID_ARGUMENT when it is malformed or made for other filters. */
export function decodePageToken<T>(
  token: string,
  filters: unknown,
  isPosition: (value: unknown) => value is T,
): T {
  let decoded: { p?: unknown; f?: unknown };
  try {
    decoded = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw badToken("page_token is not a token this server issued");
  }
  if (decoded.f !== fingerprint(filters))
    throw badToken("page_token was issued for different filters");
  if (!isPosition(decoded.p)) throw badToken("page_token is not a token this server issued");
  return decoded.p;
}

function fingerprint(filters: unknown): string {
  return createHash("sha256").update(JSON.stringify(filters)).digest("base64url").slice(0, 16);
}

function badToken(description: string) {
  return invalidArgument(`page_token: ${description}`, [
    { field: "page_token", description, reason: "PAGE_TOKEN_INVALID" },
  ]);
}

/** AIP-158 page size: 0 means the default, anything above the maximum is clamped. */
export function pageSize(requested: number, fallback: number, maximum: number): number {
  return requested === 0 ? fallback : Math.min(requested, maximum);
}
