import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hashCalendarFeedToken, isCalendarFeedToken } from "../calendar/calendar-feed-token.js";
import { eventsToIcalendar, icsFileName } from "../calendar/event-icalendar.js";
import type { CalendarFeedStore } from "../store/calendar-feed-store.js";
import { isUuid } from "../store/is-uuid.js";
import type { EventStore } from "../store/stores.js";

/** What the calendar routes read. */
export interface CalendarRoutesDeps {
  events: Pick<EventStore, "get">;
  feeds: Pick<CalendarFeedStore, "ownerOf" | "eventsAttending">;
}

const icsType = "text/calendar; charset=utf-8";
/** Calendar apps poll a feed; an hour keeps it fresh without hammering the server. */
const feedRefreshSeconds = 3600;

function originOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

function notFound(reply: FastifyReply, what: string) {
  return reply
    .code(404)
    .header("cache-control", "no-store")
    .send({ error: "Not Found", message: `${what} is not here`, statusCode: 404 });
}

/**
 * iCalendar over plain HTTP, for calendar apps that cannot speak the API:
 * `GET /calendar/events/{id}.ics` is one public event (the web app's "Add to calendar"), and
 * `GET /calendar/feeds/{token}.ics` the events a user is going to, opened by the unguessable
 * token of their feed (see CalendarService). Feeds are private: never cached by shared caches,
 * never indexed, and the request log masks the token.
 */
export function registerCalendarRoutes(app: FastifyInstance, deps: CalendarRoutesDeps): void {
  app.get<{ Params: { file: string } }>("/calendar/events/:file", async (request, reply) => {
    const id = request.params.file.replace(/\.ics$/, "");
    if (!request.params.file.endsWith(".ics") || !isUuid(id)) return notFound(reply, "This event");
    const event = await deps.events.get(id);
    if (!event) return notFound(reply, "This event");
    const body = eventsToIcalendar([event], { name: event.title, origin: originOf(request) });
    return reply
      .header("content-type", icsType)
      .header("content-disposition", `attachment; filename="${icsFileName(event)}"`)
      .header("cache-control", "no-cache")
      .send(body);
  });

  app.get<{ Params: { file: string } }>("/calendar/feeds/:file", async (request, reply) => {
    const token = request.params.file.replace(/\.ics$/, "");
    if (!request.params.file.endsWith(".ics") || !isCalendarFeedToken(token)) {
      return notFound(reply, "This calendar feed");
    }
    const userId = await deps.feeds.ownerOf(hashCalendarFeedToken(token));
    if (!userId) return notFound(reply, "This calendar feed");
    const events = await deps.feeds.eventsAttending(userId);
    const body = eventsToIcalendar(events, {
      name: "grouppe: events I'm going to",
      origin: originOf(request),
      refreshSeconds: feedRefreshSeconds,
    });
    return reply
      .header("content-type", icsType)
      .header("cache-control", "private, no-cache")
      .header("x-robots-tag", "noindex")
      .header("referrer-policy", "no-referrer")
      .send(body);
  });
}
