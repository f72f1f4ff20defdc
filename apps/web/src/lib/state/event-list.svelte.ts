import type { Client } from "@connectrpc/connect";
import { type Event, type EventService, Relation, type WatchEventsResponse } from "@grouppe/api";
import { SvelteSet } from "svelte/reactivity";
import { describeError } from "../api/error-messages.js";
import { followStream, type StreamStatus } from "../api/follow-stream.js";
import { applyListChange, type EventListFilter } from "./event-list-changes.js";

/** What a list of events shows. */
export interface EventListOptions {
  events: Client<typeof EventService>;
  relation?: Relation;
  includeCancelled?: boolean;
  pageSize?: number;
}

/** A paged, searchable list of events that can follow changes live. */
export interface EventList {
  readonly items: readonly Event[];
  readonly query: string;
  readonly hasMore: boolean;
  readonly loading: boolean;
  readonly loadingMore: boolean;
  readonly error: string | null;
  readonly liveStatus: StreamStatus;
  /** Ids of events that arrived live since the list loaded, to mark them as new. */
  readonly freshIds: ReadonlySet<string>;
  /** The latest live change in words, for a polite live region. */
  readonly announcement: string;
  /** Loads the first page for `query`; a newer search cancels an older one. */
  search(query: string): Promise<void>;
  loadMore(): Promise<void>;
  /**
   * Follows WatchEvents until `signal` aborts, loading the list for `initialQuery` as soon as
   * the stream is subscribed (so no change falls between the page and the stream), or after
   * `firstLoadWaitMs` when the stream is slow to come up.
   */
  follow(signal: AbortSignal, initialQuery: string, firstLoadWaitMs?: number): Promise<void>;
}

/** Creates the state of an event list. */
export function createEventList(options: EventListOptions): EventList {
  const { events, relation = Relation.UNSPECIFIED, includeCancelled = false } = options;
  const pageSize = options.pageSize ?? 20;
  let items = $state.raw<Event[]>([]);
  let nextPageToken = $state("");
  let query = $state("");
  let loading = $state(true);
  let loadingMore = $state(false);
  let error = $state<string | null>(null);
  let liveStatus = $state<StreamStatus>("stopped");
  let announcement = $state("");
  const freshIds = new SvelteSet<string>();
  let generation = 0;
  let inFlight: AbortController | undefined;
  const pending: WatchEventsResponse["change"][] = [];

  async function fetchPage(pageToken: string, signal: AbortSignal) {
    return events.listEvents(
      { pageSize, pageToken, query: query.trim(), relation, includeCancelled },
      { signal },
    );
  }

  async function search(text: string) {
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    const mine = ++generation;
    query = text;
    loading = true;
    error = null;
    try {
      const page = await fetchPage("", controller.signal);
      if (mine !== generation) return;
      items = page.events;
      nextPageToken = page.nextPageToken;
      freshIds.clear();
      loading = false;
      for (const change of pending.splice(0)) applyChange(change);
    } catch (caught) {
      if (mine !== generation) return;
      error = describeError(caught);
      pending.length = 0;
    } finally {
      if (mine === generation) loading = false;
    }
  }

  async function loadMore() {
    if (nextPageToken === "" || loadingMore) return;
    const mine = generation;
    loadingMore = true;
    error = null;
    try {
      const page = await fetchPage(nextPageToken, inFlight?.signal ?? new AbortController().signal);
      if (mine !== generation) return;
      const known = new Set(items.map((event) => event.id));
      items = [...items, ...page.events.filter((event) => !known.has(event.id))];
      nextPageToken = page.nextPageToken;
    } catch (caught) {
      if (mine === generation) error = describeError(caught);
    } finally {
      loadingMore = false;
    }
  }

  function filter(): EventListFilter {
    return { query, includeCancelled };
  }

  async function follow(signal: AbortSignal, initialQuery: string, firstLoadWaitMs = 1_500) {
    query = initialQuery;
    let loadedOnce = false;
    const firstLoad = () => {
      if (loadedOnce || signal.aborted) return;
      loadedOnce = true;
      void search(query);
    };
    const fallback = setTimeout(firstLoad, firstLoadWaitMs);
    signal.addEventListener("abort", () => clearTimeout(fallback), { once: true });
    await followStream({
      signal,
      idleTimeoutMs: 90_000,
      open: ({ signal: attemptSignal, onHeader }) =>
        events.watchEvents({}, { signal: attemptSignal, onHeader }),
      onStatus: (status) => {
        if (status === "live" && liveStatus !== "live") {
          // Subscribed. The first time, load the list; after a gap, reload it, since changes
          // may have been missed while the stream was down.
          if (!loadedOnce) {
            clearTimeout(fallback);
            firstLoad();
          } else if (liveStatus === "reconnecting") {
            void search(query);
          }
        }
        liveStatus = status;
      },
      onMessage: ({ change }) => {
        // A change that races a page load is applied on top of the page once it arrives.
        if (loading) pending.push(change);
        else applyChange(change);
      },
    });
  }

  function applyChange(change: WatchEventsResponse["change"]) {
    const { loaded, effect } = applyListChange({ items, nextPageToken }, change, filter());
    items = loaded.items;
    switch (effect.kind) {
      case "reload":
        void search(query);
        break;
      case "added":
        freshIds.add(effect.event.id);
        announcement = `New event: ${effect.event.title}`;
        break;
      case "removed":
        freshIds.delete(effect.eventId);
        break;
    }
  }

  return {
    get items() {
      return items;
    },
    get query() {
      return query;
    },
    get hasMore() {
      return nextPageToken !== "";
    },
    get loading() {
      return loading;
    },
    get loadingMore() {
      return loadingMore;
    },
    get error() {
      return error;
    },
    get liveStatus() {
      return liveStatus;
    },
    get freshIds() {
      return freshIds;
    },
    get announcement() {
      return announcement;
    },
    search,
    loadMore,
    follow,
  };
}
