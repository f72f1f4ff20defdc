import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { EventSchema, EventState, RsvpStatus } from "@grouppe/api";
import { describe, expect, it } from "vitest";
import {
  attendanceSummary,
  hasEnded,
  isCancelled,
  isFull,
  placeLabel,
  rsvpLabel,
  seatsLeft,
} from "./event-facts.js";

describe("event facts", () => {
  it("counts seats and says when an event is full", () => {
    const limited = create(EventSchema, { capacity: 3, attendeeCount: 2, waitlistCount: 0 });
    expect(seatsLeft(limited)).toBe(1);
    expect(isFull(limited)).toBe(false);
    expect(attendanceSummary(limited)).toBe("2 going · 1 seat left");
    const full = create(EventSchema, { capacity: 2, attendeeCount: 2, waitlistCount: 4 });
    expect(isFull(full)).toBe(true);
    expect(attendanceSummary(full)).toBe("2 going · 4 on the waitlist · full");
    const open = create(EventSchema, { capacity: 0, attendeeCount: 7 });
    expect(seatsLeft(open)).toBeUndefined();
    expect(attendanceSummary(open)).toBe("7 going · no seat limit");
  });

  it("describes state, place and the viewer's RSVP", () => {
    expect(isCancelled(create(EventSchema, { state: EventState.CANCELLED }))).toBe(true);
    const ended = create(EventSchema, {
      endsAt: timestampFromDate(new Date("2020-01-01T00:00:00Z")),
    });
    expect(hasEnded(ended, new Date("2021-01-01T00:00:00Z"))).toBe(true);
    expect(
      placeLabel(
        create(EventSchema, { location: { kind: { case: "onlineUrl", value: "https://x" } } }),
      ),
    ).toBe("Online");
    expect(rsvpLabel(RsvpStatus.WAITLISTED)).toBe("You're on the waitlist");
    expect(rsvpLabel(RsvpStatus.UNSPECIFIED)).toBeUndefined();
  });
});
