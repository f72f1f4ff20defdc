import { createHmac, timingSafeEqual } from "node:crypto";
import { invalidArgument } from "../errors.js";

/** Bytes of HMAC-SHA256 kept in a token: 128 bits cannot be guessed. */
const macBytes = 16;

/**
 * Opaque page tokens (AIP-158): the position after the last row of a page, authenticated with
 * HMAC-SHA256 under a server secret every instance shares, over the position and the filters.
 * A token is only accepted from this deployment and with the query that produced it; a
 * forged or edited one is INVALID_ARGUMENT before anything reads its position. The position is
 * still checked by the caller (`isPosition`), so a token is never trusted further than its
 * shape.
 */
export class PageTokens {
  readonly #secret: Buffer;

  constructor(secret: Uint8Array) {
    if (secret.length < 32) throw new Error("a page-token secret needs at least 32 bytes");
    this.#secret = Buffer.from(secret);
  }

  /** A token naming `position` for a query with `filters`. */
  encode(position: unknown, filters: unknown): string {
    const payload = Buffer.from(JSON.stringify(position)).toString("base64url");
    return `${payload}.${this.#mac(payload, filters).toString("base64url")}`;
  }

  /** The position a token names; INVALID_ARGUMENT when it is not ours, not for these filters or malformed. */
  decode<T>(token: string, filters: unknown, isPosition: (value: unknown) => value is T): T {
    const [payload, mac, extra] = token.split(".");
    if (payload === undefined || mac === undefined || extra !== undefined) throw notOurs();
    const expected = this.#mac(payload, filters);
    const given = Buffer.from(mac, "base64url");
    // Tokens for other filters fail here too: the filters are part of what is signed.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw notOurs();
    let position: unknown;
    try {
      position = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    } catch {
      throw notOurs();
    }
    if (!isPosition(position)) throw notOurs();
    return position;
  }

  #mac(payload: string, filters: unknown): Buffer {
    return createHmac("sha256", this.#secret)
      .update("grouppe page token v1\0")
      .update(payload)
      .update("\0")
      .update(JSON.stringify(filters) ?? "")
      .digest()
      .subarray(0, macBytes);
  }
}

function notOurs() {
  const description = "not a token this server issued for these filters";
  return invalidArgument(`page_token: ${description}`, [
    { field: "page_token", description, reason: "PAGE_TOKEN_INVALID" },
  ]);
}

/** AIP-158 page size: 0 means the default, anything above the maximum is clamped. */
export function pageSize(requested: number, fallback: number, maximum: number): number {
  return requested === 0 ? fallback : Math.min(requested, maximum);
}
