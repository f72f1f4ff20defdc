import { createHash, randomBytes } from "node:crypto";
import { ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { PageTokens } from "./page-token.js";

const isAnything = (value: unknown): value is unknown => value !== undefined;
const reasonOf = (call: () => unknown) => {
  try {
    call();
  } catch (error) {
    return ConnectError.from(error).rawMessage;
  }
  return "accepted";
};

describe("PageTokens", () => {
  const tokens = new PageTokens(randomBytes(32));
  const filters = { q: "svelte" };
  const position = { s: 1_700_000_000_000, i: "9f6d2c1e-8a1b-4c3d-9e0f-1a2b3c4d5e6f" };

  it("gives back the position it signed, for the same filters", () => {
    const token = tokens.encode(position, filters);
    expect(tokens.decode(token, { q: "svelte" }, isAnything)).toEqual(position);
  });

  it("refuses a token for other filters, from another secret, or edited", () => {
    const token = tokens.encode(position, filters);
    const [payload, mac] = token.split(".");
    const edited = Buffer.from(JSON.stringify({ ...position, s: 1e300 })).toString("base64url");
    const refused = "page_token: not a token this server issued for these filters";
    expect(reasonOf(() => tokens.decode(token, { q: "other" }, isAnything))).toBe(refused);
    expect(reasonOf(() => new PageTokens(randomBytes(32)).decode(token, filters, isAnything))).toBe(
      refused,
    );
    expect(reasonOf(() => tokens.decode(`${edited}.${mac}`, filters, isAnything))).toBe(refused);
    expect(reasonOf(() => tokens.decode(`${payload}`, filters, isAnything))).toBe(refused);
    expect(reasonOf(() => tokens.decode(`${token}.x`, filters, isAnything))).toBe(refused);
  });

  it("refuses a token built with an unkeyed hash of the filters", () => {
    const fingerprint = createHash("sha256")
      .update(JSON.stringify(filters))
      .digest("base64url")
      .slice(0, 16);
    const forged = Buffer.from(JSON.stringify({ p: position, f: fingerprint })).toString(
      "base64url",
    );
    expect(reasonOf(() => tokens.decode(forged, filters, isAnything))).toMatch(/not a token/);
  });

  it("refuses a signed position its checker rejects", () => {
    const token = tokens.encode({ s: 1e300 }, filters);
    const isSane = (v: unknown): v is { s: number } => (v as { s: number }).s < 1e15;
    expect(reasonOf(() => tokens.decode(token, filters, isSane))).toMatch(/not a token/);
  });
});
