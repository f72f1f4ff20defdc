import { timestampMs } from "@bufbuild/protobuf/wkt";
import { type Event, EventState, RsvpStatus, type WatchEventsResponse } from "@grouppe/api";

/** The part of a list that live changes touch. */
export interface LoadedEvents {
  items: Event[];
  /** Set when more pages follow: events past the last loaded one belong to them. */
  nextPageToken: string;
}

/** Which events a list shows. */
export interface EventListFilter {
  /** The search words, as typed. */
  query: string;
  includeCancelled: boolean;
}

/** What a change did to the list, for announcing it. */
export type ListChangeEffect =
  | { kind: "none" }
  | { kind: "reload" }
  | { kind: "added"; event: Event }
  | { kind: "updated"; event: Event }
  | { kind: "removed"; eventId: string };

function startMs(event: Event): number {
  return event.startsAt ? timestampMs(event.startsAt) : 0;
}

/** ListEvents order: by start time, then id. */
export function compareEvents(a: Event, b: Event): number {
  return startMs(a) - startMs(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Whether an event fits the search: every word appears in its title, description or address,
 * ignoring case — the same test the server applies.
 */
export function matchesQuery(event: Event, query: string): boolean {
  const words = query.toLocaleLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const address = event.location?.kind.case === "address" ? event.location.kind.value : "";
  const haystack = `${event.title}\n${event.description}\n${address}`.toLocaleLowerCase();
  return words.every((word) => haystack.includes(word));
}

function belongs(event: Event, filter: EventListFilter, now: number): boolean {
  if (event.state === EventState.CANCELLED && !filter.includeCancelled) return false;
  if (event.endsAt && timestampMs(event.endsAt) <= now) return false;
  return matchesQuery(event, filter.query);
}

function withinLoadedRange(event: Event, loaded: LoadedEvents): boolean {
  const last = loaded.items.at(-1);
  return loaded.nextPageToken === "" || last === undefined || compareEvents(event, last) <= 0;
}

/**
 * Applies one WatchEvents change to a loaded list. The stream is shared by everyone, so it
 * never knows this viewer's RSVP: an event already on the list keeps the viewer's status.
 */
export function applyListChange(
  loaded: LoadedEvents,
  change: WatchEventsResponse["change"],
  filter: EventListFilter,
  now: number = Date.now(),
): { loaded: LoadedEvents; effect: ListChangeEffect } {
  const unchanged = { loaded, effect: { kind: "none" } as ListChangeEffect };
  switch (change.case) {
    case "created":
    case "updated":
    case "cancelled": {
      const incoming = change.value;
      const index = loaded.items.findIndex((event) => event.id === incoming.id);
      const fits = belongs(incoming, filter, now) && withinLoadedRange(incoming, loaded);
      if (index === -1) {
        if (!fits) return unchanged;
        const items = [...loaded.items, incoming].sort(compareEvents);
        return { loaded: { ...loaded, items }, effect: { kind: "added", event: incoming } };
      }
      if (!fits) {
        const items = loaded.items.filter((event) => event.id !== incoming.id);
        return { loaded: { ...loaded, items }, effect: { kind: "removed", eventId: incoming.id } };
      }
      const viewerRsvp = loaded.items[index]?.viewerRsvp ?? RsvpStatus.UNSPECIFIED;
      const merged: Event = { ...incoming, viewerRsvp };
      const items = loaded.items.map((event, at) => (at === index ? merged : event));
      items.sort(compareEvents);
      return { loaded: { ...loaded, items }, effect: { kind: "updated", event: merged } };
    }
    case "deleted": {
      const eventId = change.value.eventId;
      if (!loaded.items.some((event) => event.id === eventId)) return unchanged;
      const items = loaded.items.filter((event) => event.id !== eventId);
      return { loaded: { ...loaded, items }, effect: { kind: "removed", eventId } };
    }
    case "resync":
      return { loaded, effect: { kind: "reload" } };
    default:
      return unchanged;
  }
}
