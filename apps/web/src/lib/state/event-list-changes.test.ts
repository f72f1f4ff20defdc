import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type Event,
  EventSchema,
  EventState,
  RsvpStatus,
  WatchEventsResponseSchema,
} from "@grouppe/api";
import { describe, expect, it } from "vitest";
import { applyListChange, matchesQuery } from "./event-list-changes.js";

const now = Date.parse("2031-01-01T00:00:00Z");

interface EventExtras {
  title?: string;
  description?: string;
  state?: EventState;
  attendeeCount?: number;
  viewerRsvp?: RsvpStatus;
}

function event(id: string, startsAt: string, extra: EventExtras = {}): Event {
  const start = new Date(startsAt);
  return create(EventSchema, {
    id,
    title: `Event ${id}`,
    startsAt: timestampFromDate(start),
    endsAt: timestampFromDate(new Date(start.getTime() + 3_600_000)),
    timeZone: "UTC",
    location: { kind: { case: "address", value: "Main Square" } },
    state: EventState.SCHEDULED,
    ...extra,
  });
}

const change = (init: Parameters<typeof create<typeof WatchEventsResponseSchema>>[1]) =>
  create(WatchEventsResponseSchema, init).change;

const filter = { query: "", includeCancelled: false };

describe("applyListChange", () => {
  it("adds a created event in start order", () => {
    const loaded = {
      items: [event("a", "2031-02-01"), event("c", "2031-02-03")],
      nextPageToken: "",
    };
    const result = applyListChange(
      loaded,
      change({ change: { case: "created", value: event("b", "2031-02-02") } }),
      filter,
      now,
    );
    expect(result.loaded.items.map((e) => e.id)).toEqual(["a", "b", "c"]);
    expect(result.effect.kind).toBe("added");
  });

  it("leaves events past the loaded page to the pages that follow", () => {
    const loaded = { items: [event("a", "2031-02-01")], nextPageToken: "more" };
    const result = applyListChange(
      loaded,
      change({ change: { case: "created", value: event("z", "2031-09-01") } }),
      filter,
      now,
    );
    expect(result.loaded.items.map((e) => e.id)).toEqual(["a"]);
    expect(result.effect.kind).toBe("none");
  });

  it("skips events that do not match the search or are over", () => {
    const loaded = { items: [], nextPageToken: "" };
    const other = event("b", "2031-02-02", { title: "Chess club" });
    expect(
      applyListChange(loaded, change({ change: { case: "created", value: other } }), {
        query: "yoga",
        includeCancelled: false,
      }).effect.kind,
    ).toBe("none");
    const past = event("p", "2030-06-01");
    expect(
      applyListChange(loaded, change({ change: { case: "created", value: past } }), filter, now)
        .effect.kind,
    ).toBe("none");
  });

  it("updates counts in place and keeps the viewer's own RSVP", () => {
    const mine = event("a", "2031-02-01", { viewerRsvp: RsvpStatus.ATTENDING, attendeeCount: 1 });
    const broadcast = event("a", "2031-02-01", { attendeeCount: 2 });
    const result = applyListChange(
      { items: [mine], nextPageToken: "" },
      change({ change: { case: "updated", value: broadcast } }),
      filter,
      now,
    );
    expect(result.loaded.items[0]?.attendeeCount).toBe(2);
    expect(result.loaded.items[0]?.viewerRsvp).toBe(RsvpStatus.ATTENDING);
  });

  it("drops cancelled and deleted events, and asks for a reload on resync", () => {
    const loaded = {
      items: [event("a", "2031-02-01"), event("b", "2031-02-02")],
      nextPageToken: "",
    };
    const cancelled = applyListChange(
      loaded,
      change({
        change: {
          case: "cancelled",
          value: event("a", "2031-02-01", { state: EventState.CANCELLED }),
        },
      }),
      filter,
      now,
    );
    expect(cancelled.loaded.items.map((e) => e.id)).toEqual(["b"]);
    const deleted = applyListChange(
      loaded,
      change({ change: { case: "deleted", value: { eventId: "b" } } }),
      filter,
      now,
    );
    expect(deleted.loaded.items.map((e) => e.id)).toEqual(["a"]);
    expect(
      applyListChange(loaded, change({ change: { case: "resync", value: {} } }), filter).effect
        .kind,
    ).toBe("reload");
    expect(
      applyListChange(loaded, change({ change: { case: "heartbeat", value: {} } }), filter).loaded,
    ).toBe(loaded);
  });

  it("keeps cancelled events on lists that show them", () => {
    const loaded = { items: [event("a", "2031-02-01")], nextPageToken: "" };
    const result = applyListChange(
      loaded,
      change({
        change: {
          case: "cancelled",
          value: event("a", "2031-02-01", { state: EventState.CANCELLED }),
        },
      }),
      { query: "", includeCancelled: true },
      now,
    );
    expect(result.loaded.items[0]?.state).toBe(EventState.CANCELLED);
  });
});

describe("matchesQuery", () => {
  it("needs every word somewhere in title, description or address, ignoring case", () => {
    const e = event("a", "2031-02-01", { title: "Sunday Yoga", description: "Bring a mat" });
    expect(matchesQuery(e, "yoga MAT")).toBe(true);
    expect(matchesQuery(e, "yoga square")).toBe(true);
    expect(matchesQuery(e, "yoga pilates")).toBe(false);
    expect(matchesQuery(e, "   ")).toBe(true);
  });
});
