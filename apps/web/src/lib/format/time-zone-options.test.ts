import { describe, expect, it } from "vitest";
import { filterTimeZones, timeZoneOption, timeZoneOptions } from "./time-zone-options.js";

const summer = new Date("2030-07-01T12:00:00Z");
const winter = new Date("2030-01-15T12:00:00Z");

describe("time zone options", () => {
  it("puts the viewer's zone first, then UTC, then west to east", () => {
    const options = timeZoneOptions("Asia/Tokyo", summer);
    expect(options[0]?.zone).toBe("Asia/Tokyo");
    expect(options[0]?.isViewerZone).toBe(true);
    expect(options[1]?.zone).toBe("UTC");
    const rest = options.slice(2).map((option) => option.offsetMinutes);
    expect(rest).toEqual([...rest].sort((a, b) => a - b));
    expect(new Set(options.map((option) => option.zone)).size).toBe(options.length);
  });

  it("writes the offset of the given date, daylight saving included", () => {
    expect(timeZoneOption("Europe/Berlin", "UTC", summer).offset).toBe("UTC+02:00");
    expect(timeZoneOption("Europe/Berlin", "UTC", winter).offset).toBe("UTC+01:00");
    expect(timeZoneOption("America/New_York", "UTC", winter).offset).toBe("UTC\u221205:00");
    expect(timeZoneOption("Asia/Kolkata", "UTC", winter).offset).toBe("UTC+05:30");
    expect(timeZoneOption("UTC", "UTC", winter).offset).toBe("UTC±00:00");
  });

  it("finds zones by city, region, long name and offset", () => {
    const options = timeZoneOptions("Europe/Berlin", winter);
    const zones = (query: string) => filterTimeZones(options, query).map((option) => option.zone);
    expect(zones("berlin")).toEqual(["Europe/Berlin"]);
    expect(zones("new york")).toEqual(["America/New_York"]);
    expect(zones("new_york")).toEqual(["America/New_York"]);
    expect(zones("+5:30")).toContain("Asia/Colombo");
    expect(zones("utc-5")).toContain("America/New_York");
    expect(zones("gmt+1")).toContain("Europe/Paris");
    expect(zones("central european")).toContain("Europe/Berlin");
    expect(zones("  ")).toHaveLength(options.length);
    expect(zones("atlantis")).toEqual([]);
  });
});
