import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { EventSchema } from "@grouppe/api";
import { describe, expect, it } from "vitest";
import { checkMessage } from "./check-message.js";
import {
  changedEventFields,
  draftFromEvent,
  draftProblems,
  emptyEventDraft,
  eventFormFields,
  eventFromDraft,
  mergeEventChanges,
} from "./event-draft.js";
import { formErrors } from "./field-violations.js";

function storedEvent() {
  return create(EventSchema, {
    id: "5d1f7f0e-5a55-4d4c-9c40-3f3c3c1c1c1c",
    title: "Board games",
    description: "Bring a game.",
    startsAt: timestampFromDate(new Date("2031-03-14T17:00:00Z")),
    endsAt: timestampFromDate(new Date("2031-03-14T21:00:00Z")),
    timeZone: "Europe/Berlin",
    location: { kind: { case: "address", value: "Kastanienallee 1, Berlin" } },
    capacity: 12,
    attendeeCount: 5,
    etag: "v3",
  });
}

describe("event drafts", () => {
  it("shows a stored event in its own zone and turns back into the same event", () => {
    const draft = draftFromEvent(storedEvent());
    expect(draft).toMatchObject({
      startsAt: "2031-03-14T18:00",
      endsAt: "2031-03-14T22:00",
      locationKind: "address",
      capacity: "12",
    });
    expect(changedEventFields(storedEvent(), eventFromDraft(draft))).toEqual([]);
  });

  it("names exactly the changed fields, in API order", () => {
    const draft = {
      ...draftFromEvent(storedEvent()),
      capacity: "3",
      title: "Board games night",
      locationKind: "online" as const,
      onlineUrl: "https://meet.example.com/games",
    };
    expect(changedEventFields(storedEvent(), eventFromDraft(draft))).toEqual([
      "title",
      "location",
      "capacity",
    ]);
  });

  it("moving the zone moves the instants", () => {
    const draft = { ...draftFromEvent(storedEvent()), timeZone: "America/New_York" };
    const edited = eventFromDraft(draft);
    expect(changedEventFields(storedEvent(), edited)).toEqual([
      "starts_at",
      "ends_at",
      "time_zone",
    ]);
    expect(edited.startsAt && timestampDate(edited.startsAt).toISOString()).toBe(
      "2031-03-14T22:00:00.000Z",
    );
  });

  it("checks the merged event, so an edit cannot end before the stored start", () => {
    const stored = storedEvent();
    const draft = { ...draftFromEvent(stored), endsAt: "2031-03-14T17:00" };
    const edited = eventFromDraft(draft);
    const fields = changedEventFields(stored, edited);
    expect(fields).toEqual(["ends_at"]);
    const merged = mergeEventChanges(stored, edited, fields);
    expect(merged.title).toBe("Board games");
    expect(merged.etag).toBe("v3");
    const errors = checkMessage(EventSchema, merged, eventFormFields);
    expect(errors.fields).toEqual({ ends_at: "The event has to end after it starts." });
  });

  it("reports text the form cannot turn into an event", () => {
    const draft = { ...emptyEventDraft("UTC"), startsAt: "2031-02-30T10:00", capacity: "2.5" };
    const problems = draftProblems(draft);
    expect(formErrors(problems, eventFormFields).fields).toEqual({
      starts_at: "Enter a date and a time.",
      capacity: "Enter a whole number of seats, or 0 for no limit.",
    });
    expect(draftProblems({ ...emptyEventDraft("UTC"), capacity: " " })).toEqual([]);
  });

  it("starts a new draft tomorrow evening in the chosen zone, with no seat limit", () => {
    const now = new Date("2031-01-10T23:41:00Z");
    expect(emptyEventDraft("UTC", now)).toMatchObject({
      startsAt: "2031-01-11T18:00",
      endsAt: "2031-01-11T20:00",
    });
    // Already the 11th in Tokyo, so tomorrow there is the 12th.
    expect(emptyEventDraft("Asia/Tokyo", now).startsAt).toBe("2031-01-12T18:00");
    expect(eventFromDraft(emptyEventDraft("UTC", now)).capacity).toBe(0);
  });

  it("trims text and keeps the chosen kind of place only", () => {
    const draft = {
      ...emptyEventDraft("UTC"),
      title: "  Walk  ",
      address: "Somewhere",
      locationKind: "online" as const,
      onlineUrl: " https://x.example ",
    };
    const event = eventFromDraft(draft);
    expect(event.title).toBe("Walk");
    expect(event.location?.kind).toEqual({ case: "onlineUrl", value: "https://x.example" });
  });
});
