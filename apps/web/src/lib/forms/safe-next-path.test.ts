import { describe, expect, it } from "vitest";
import { newRequestId } from "./new-request-id.js";
import { safeNextPath } from "./safe-next-path.js";

describe("safeNextPath", () => {
  it("keeps paths on this site and refuses everything else", () => {
    expect(safeNextPath("/events/new?x=1")).toBe("/events/new?x=1");
    expect(safeNextPath(null)).toBe("/");
    expect(safeNextPath("https://evil.example")).toBe("/");
    expect(safeNextPath("//evil.example")).toBe("/");
    expect(safeNextPath("/\\evil.example")).toBe("/");
  });
});

describe("newRequestId", () => {
  it("makes distinct version 4 UUIDs", () => {
    const ids = new Set(Array.from({ length: 50 }, () => newRequestId()));
    expect(ids.size).toBe(50);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
