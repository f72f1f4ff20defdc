import { describe, expect, it } from "vitest";
import { columnOf, rowToRequest } from "./row-to-request.js";

const organizer = "0190a6f4-7c1e-7b8a-9c3d-2e4f5a6b7c8d";
const row = {
  key: "a",
  title: "Picnic",
  starts_at: "2030-06-01T12:00:00Z",
  ends_at: "2030-06-01T15:00:00Z",
  time_zone: "Europe/Berlin",
  online_url: "https://meet.example.com/picnic",
  capacity: "12",
};

describe("columnOf", () => {
  it("reads snake_case, camelCase and the short aliases", () => {
    expect(["starts_at", "startsAt", "Starts At", "venue", "url"].map(columnOf)).toEqual([
      "starts_at",
      "starts_at",
      "starts_at",
      "address",
      "online_url",
    ]);
    expect(columnOf("colour")).toBeUndefined();
  });
});

describe("rowToRequest", () => {
  it("builds the ImportEvents request of a row", () => {
    const outcome = rowToRequest(row, organizer);
    if (!outcome.ok) throw new Error(outcome.reason);
    expect(outcome.request.key).toBe("a");
    expect(outcome.request.organizerId).toBe(organizer);
    expect(outcome.request.event?.location?.kind).toEqual({
      case: "onlineUrl",
      value: "https://meet.example.com/picnic",
    });
    expect(outcome.request.event?.capacity).toBe(12);
    expect(outcome.request.event?.startsAt?.seconds).toBe(
      BigInt(Date.parse("2030-06-01T12:00:00Z") / 1000),
    );
  });

  it("rejects what it cannot turn into a message, and leaves the event's rules to the server", () => {
    expect(rowToRequest({ ...row, capacity: "lots" }, organizer)).toEqual({
      ok: false,
      key: "a",
      reason: 'capacity: "lots" is not a whole number',
    });
    expect(rowToRequest({ ...row, ends_at: "" }, organizer)).toMatchObject({
      ok: false,
      reason: "ends_at: required",
    });
    expect(rowToRequest(row, undefined)).toMatchObject({ ok: false, reason: /organizer_id/ });
    // An empty title is the server's to reject, with the same words as for any client.
    expect(rowToRequest({ ...row, title: "" }, organizer).ok).toBe(true);
  });

  it("keys a row without a key by its content, so importing it again matches", () => {
    const { key: _, ...unkeyed } = row;
    const first = rowToRequest(unkeyed, organizer);
    const again = rowToRequest({ ...unkeyed }, organizer);
    if (!first.ok || !again.ok) throw new Error("rejected");
    expect(first.request.key).toMatch(/^sha256:[0-9a-f]{40}$/);
    expect(again.request.key).toBe(first.request.key);
  });
});
