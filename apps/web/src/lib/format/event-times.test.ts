import { describe, expect, it } from "vitest";
import {
  describeEventTimes,
  eventClockBeside,
  formatRange,
  formatRelative,
  formatStart,
  zoneCity,
} from "./event-times.js";

/** ICU puts narrow and thin no-break spaces around times and dashes; compare them as spaces. */
const plain = (text: string | undefined) => text?.replace(/[\u00a0\u2009\u202f]/g, " ");

const start = new Date("2030-07-01T16:30:00Z");
const end = new Date("2030-07-01T19:00:00Z");

describe("event times", () => {
  it("writes a same-day range once, in the event's zone", () => {
    const range = formatRange(start, end, "Europe/Berlin", "en-GB");
    expect(plain(range.text)).toBe("Mon, 1 Jul 2030, 18:30–21:00");
    expect(range.zoneName).toBe("CEST");
    expect(range.timeZone).toBe("Europe/Berlin");
  });

  it("adds the viewer's time when their clock reads differently", () => {
    const times = describeEventTimes(start, end, "Europe/Berlin", "America/New_York", "en-US");
    expect(plain(times.event.text)).toBe("Mon, Jul 1, 2030, 6:30 – 9:00 PM");
    expect(plain(times.viewer?.text)).toBe("Mon, Jul 1, 2030, 12:30 – 3:00 PM");
    expect(times.viewer?.zoneName).toBe("EDT");
  });

  it("leaves out the viewer's time when it matches", () => {
    expect(describeEventTimes(start, end, "Europe/Berlin", "Europe/Berlin").viewer).toBeUndefined();
  });

  it("spells a range across days with both dates", () => {
    const overnight = formatRange(start, new Date("2030-07-02T08:00:00Z"), "UTC", "en-US");
    expect(plain(overnight.text)).toBe("Mon, Jul 1, 2030, 4:30 PM – Tue, Jul 2, 2030, 8:00 AM");
  });

  it("formats a compact start and relative times", () => {
    expect(plain(formatStart(start, "Asia/Tokyo", "en-US"))).toBe("Tue, Jul 2, 1:30 AM");
    const now = new Date("2030-06-28T16:30:00Z");
    expect(formatRelative(start, now, "en")).toBe("in 3 days");
    expect(formatRelative(new Date("2030-06-28T14:30:00Z"), now, "en")).toBe("2 hours ago");
  });

  it("puts the event's own clock beside the viewer's, with the date only when it differs", () => {
    expect(plain(eventClockBeside(start, "Europe/Berlin", "Europe/London", "en-US"))).toBe(
      "6:30 PM",
    );
    expect(plain(eventClockBeside(start, "Asia/Tokyo", "Europe/Berlin", "en-US"))).toBe(
      "Tue, Jul 2, 1:30 AM",
    );
    expect(eventClockBeside(start, "Europe/Berlin", "Europe/Paris", "en-US")).toBeUndefined();
    expect(zoneCity("America/Argentina/Buenos_Aires")).toBe("Buenos Aires");
    expect(zoneCity("UTC")).toBe("UTC");
  });
});
