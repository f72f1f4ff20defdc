import { describe, expect, it } from "vitest";
import {
  dateToWallTime,
  isKnownTimeZone,
  timeZoneChoices,
  wallTimeToDate,
  zoneOffsetMs,
} from "./zoned-time.js";

describe("wall times in a zone", () => {
  it("converts both ways across zones", () => {
    const berlinSummer = wallTimeToDate("2030-07-01T18:30", "Europe/Berlin");
    expect(berlinSummer?.toISOString()).toBe("2030-07-01T16:30:00.000Z");
    const berlinWinter = wallTimeToDate("2030-01-15T09:00", "Europe/Berlin");
    expect(berlinWinter?.toISOString()).toBe("2030-01-15T08:00:00.000Z");
    const kolkata = wallTimeToDate("2030-03-01T00:15", "Asia/Kolkata");
    expect(kolkata?.toISOString()).toBe("2030-02-28T18:45:00.000Z");
    expect(dateToWallTime(new Date("2030-02-28T18:45:00Z"), "Asia/Kolkata")).toBe(
      "2030-03-01T00:15",
    );
    expect(dateToWallTime(new Date("2030-07-01T16:30:00Z"), "America/New_York")).toBe(
      "2030-07-01T12:30",
    );
  });

  it("handles the hours around daylight saving changes", () => {
    // Berlin springs forward at 02:00 on 2030-03-31: 02:30 does not exist and moves past the gap.
    expect(wallTimeToDate("2030-03-31T02:30", "Europe/Berlin")?.toISOString()).toBe(
      "2030-03-31T01:30:00.000Z",
    );
    expect(wallTimeToDate("2030-03-31T03:30", "Europe/Berlin")?.toISOString()).toBe(
      "2030-03-31T01:30:00.000Z",
    );
    // Berlin falls back at 03:00 on 2030-10-27: 02:30 happens twice, the first is taken.
    expect(wallTimeToDate("2030-10-27T02:30", "Europe/Berlin")?.toISOString()).toBe(
      "2030-10-27T00:30:00.000Z",
    );
    expect(zoneOffsetMs(Date.parse("2030-10-27T00:30:00Z"), "Europe/Berlin")).toBe(2 * 3_600_000);
    expect(zoneOffsetMs(Date.parse("2030-10-27T01:30:00Z"), "Europe/Berlin")).toBe(3_600_000);
  });

  it("rejects text that is not a wall time, impossible dates and unknown zones", () => {
    expect(wallTimeToDate("", "UTC")).toBeUndefined();
    expect(wallTimeToDate("tomorrow", "UTC")).toBeUndefined();
    expect(wallTimeToDate("2030-02-30T10:00", "UTC")).toBeUndefined();
    expect(wallTimeToDate("2030-02-01T10:00", "Mars/Olympus_Mons")).toBeUndefined();
    expect(isKnownTimeZone("Mars/Olympus_Mons")).toBe(false);
  });

  it("offers UTC first and keeps an event's own zone in the choices", () => {
    const zones = timeZoneChoices(["Etc/GMT+5"]);
    expect(zones[0]).toBe("UTC");
    expect(zones).toContain("Europe/Berlin");
    expect(zones).toContain("Etc/GMT+5");
    expect(new Set(zones).size).toBe(zones.length);
  });
});
