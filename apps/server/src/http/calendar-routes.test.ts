import { type FastifyBaseLogger, fastify } from "fastify";
import ICAL from "ical.js";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { hashCalendarFeedToken, newCalendarFeedToken } from "../calendar/calendar-feed-token.js";
import type { EventRecord } from "../store/records.js";
import { registerCalendarRoutes } from "./calendar-routes.js";
import { RequestLogController } from "./request-log.js";

const eventId = "6f1c1c64-5a0e-4a8e-9a43-3f8e8b1d2c11";

function record(overrides: Partial<EventRecord> = {}): EventRecord {
  return {
    id: eventId,
    organizerId: "a1",
    organizerName: "Mina Okafor",
    title: "Harbour walk: 5 km",
    description: "Meet at the ferry.",
    startsAt: new Date("2030-07-01T16:30:00Z"),
    endsAt: new Date("2030-07-01T18:00:00Z"),
    timeZone: "Europe/Berlin",
    location: { kind: "address", address: "Hafenstrasse 1, Hamburg" },
    capacity: 10,
    attendeeCount: 2,
    waitlistCount: 0,
    state: "scheduled",
    cancelReason: "",
    createTime: new Date("2030-06-01T10:00:00Z"),
    updateTime: new Date("2030-06-02T10:00:00Z"),
    version: 4,
    ...overrides,
  };
}

/** The VEVENTs of an iCalendar text, as a calendar library reads them. */
function parseEvents(text: string): ICAL.Event[] {
  const component = new ICAL.Component(ICAL.parse(text));
  return component.getAllSubcomponents("vevent").map((vevent) => new ICAL.Event(vevent));
}

async function appWith(events: EventRecord[], feeds: Record<string, string> = {}) {
  const app = fastify();
  registerCalendarRoutes(app, {
    events: { get: async (id) => events.find((event) => event.id === id) },
    feeds: {
      ownerOf: async (hash) => feeds[hash],
      eventsAttending: async () => events,
    },
  });
  await app.ready();
  return app;
}

describe("GET /calendar/events/{id}.ics", () => {
  it("is one event a calendar library reads back: times, place, link, version", async () => {
    const app = await appWith([record()]);
    const response = await app.inject({
      url: `/calendar/events/${eventId}.ics`,
      headers: { host: "grouppe.example" },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("text/calendar; charset=utf-8");
    expect(response.headers["content-disposition"]).toBe(
      'attachment; filename="Harbour-walk-5-km.ics"',
    );
    const [event] = parseEvents(response.body);
    expect(event?.uid).toBe(`${eventId}@grouppe`);
    expect(event?.summary).toBe("Harbour walk: 5 km");
    expect(event?.location).toBe("Hafenstrasse 1, Hamburg");
    expect(event?.startDate.toJSDate().toISOString()).toBe("2030-07-01T16:30:00.000Z");
    expect(event?.endDate.toJSDate().toISOString()).toBe("2030-07-01T18:00:00.000Z");
    expect(event?.sequence).toBe(4);
    expect(event?.description).toContain("Hosted by Mina Okafor.");
    expect(event?.description).toContain(`http://grouppe.example/events/${eventId}`);
    expect(event?.component.getFirstPropertyValue("x-grouppe-time-zone")).toBe("Europe/Berlin");
    expect(event?.component.getFirstPropertyValue("status")).toBe("CONFIRMED");
  });

  it("marks a cancelled event and links an online one to its meeting", async () => {
    const app = await appWith([
      record({
        state: "cancelled",
        cancelReason: "Storm warning",
        location: { kind: "online", url: "https://meet.example.com/x" },
      }),
    ]);
    const response = await app.inject({ url: `/calendar/events/${eventId}.ics` });
    const [event] = parseEvents(response.body);
    expect(event?.component.getFirstPropertyValue("status")).toBe("CANCELLED");
    expect(event?.description).toMatch(/^Cancelled: Storm warning/);
    expect(event?.component.getFirstPropertyValue("url")).toBe("https://meet.example.com/x");
  });

  it("is a JSON 404 for an unknown event, a malformed id or another extension", async () => {
    const app = await appWith([record()]);
    for (const url of [
      "/calendar/events/00000000-0000-4000-8000-000000000000.ics",
      "/calendar/events/not-an-id.ics",
      `/calendar/events/${eventId}.json`,
    ]) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(404);
      expect(response.json()).toMatchObject({ statusCode: 404 });
    }
  });
});

describe("GET /calendar/feeds/{token}.ics", () => {
  it("opens the feed of the token's owner, privately, with a refresh interval", async () => {
    const { token, hash } = newCalendarFeedToken();
    expect(hash).toBe(hashCalendarFeedToken(token));
    const app = await appWith([record(), record({ id: "other", title: "Second" })], {
      [hash]: "user-1",
    });
    const response = await app.inject({ url: `/calendar/feeds/${token}.ics` });
    expect(response.statusCode).toBe(200);
    expect(response.headers["cache-control"]).toBe("private, no-cache");
    expect(response.headers["x-robots-tag"]).toBe("noindex");
    expect(response.body).toMatch(/REFRESH-INTERVAL;VALUE=DURATION:PT1H/);
    expect(parseEvents(response.body).map((event) => event.summary)).toEqual([
      "Harbour walk: 5 km",
      "Second",
    ]);
  });

  it("is a 404 for a token nobody holds and for text that is no token", async () => {
    const app = await appWith([record()], {});
    const { token } = newCalendarFeedToken();
    expect((await app.inject({ url: `/calendar/feeds/${token}.ics` })).statusCode).toBe(404);
    expect((await app.inject({ url: "/calendar/feeds/short.ics" })).statusCode).toBe(404);
  });

  it("keeps the token out of the request log", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    const app = fastify({
      loggerInstance: logger as FastifyBaseLogger,
      logController: new RequestLogController("requestId", new Set()),
    });
    registerCalendarRoutes(app, {
      events: { get: async () => undefined },
      feeds: { ownerOf: async () => undefined, eventsAttending: async () => [] },
    });
    const { token } = newCalendarFeedToken();
    await app.inject({ url: `/calendar/feeds/${token}.ics` });
    expect(lines.join("")).not.toContain(token);
    expect(lines.join("")).toContain('"path":"/calendar/feeds/[token].ics"');
  });
});
