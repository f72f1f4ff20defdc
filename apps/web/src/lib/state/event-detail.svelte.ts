import { type Client, Code, ConnectError } from "@connectrpc/connect";
import {
  type Attendee,
  type Event,
  type EventService,
  RsvpStatus,
  type WatchEventResponse,
} from "@grouppe/api";
import { describeError } from "../api/error-messages.js";
import { followStream, type StreamStatus } from "../api/follow-stream.js";

/** One event with its attendees, kept current through WatchEvent. */
export interface EventDetail {
  readonly event: Event | null;
  /** Why the event could not be shown, in words. */
  readonly loadError: string | null;
  readonly notFound: boolean;
  /** The event was deleted while the page was open. */
  readonly deleted: boolean;
  readonly attendees: readonly Attendee[];
  readonly attendeesHasMore: boolean;
  readonly attendeesLoading: boolean;
  readonly liveStatus: StreamStatus;
  /** An RSVP, cancel or delete is under way. */
  readonly busy: boolean;
  /** Why the last RSVP, cancel or delete failed, in words. */
  readonly actionError: string | null;
  /** The latest live change in words, for a polite live region. */
  readonly announcement: string;
  /** Loads the event and its attendees, then follows it until `signal` aborts. */
  start(signal: AbortSignal): Promise<void>;
  /** Loads the event again, e.g. after signing in or out. */
  reload(): Promise<void>;
  /** RSVPs; resolves to whether it worked (the event then shows the viewer's new standing). */
  join(): Promise<boolean>;
  /** Withdraws the RSVP; resolves to whether it worked. */
  leave(): Promise<boolean>;
  cancel(reason: string): Promise<boolean>;
  remove(): Promise<boolean>;
  loadMoreAttendees(): Promise<void>;
}

/** What an event detail needs. */
export interface EventDetailOptions {
  events: Client<typeof EventService>;
  id: string;
}

const attendeePageSize = 50;

/** Creates the state of one event's page. */
export function createEventDetail(options: EventDetailOptions): EventDetail {
  const { events, id } = options;
  let event = $state.raw<Event | null>(null);
  let loadError = $state<string | null>(null);
  let notFound = $state(false);
  let deleted = $state(false);
  let attendees = $state.raw<Attendee[]>([]);
  let attendeesNext = $state("");
  let attendeesLoading = $state(false);
  let liveStatus = $state<StreamStatus>("stopped");
  let busy = $state(false);
  let actionError = $state<string | null>(null);
  let announcement = $state("");
  let attendeeRefresh: ReturnType<typeof setTimeout> | undefined;

  async function reload() {
    try {
      const response = await events.getEvent({ id });
      event = response.event ?? null;
      loadError = null;
      notFound = false;
    } catch (error) {
      const connectError = ConnectError.from(error);
      notFound = connectError.code === Code.NotFound || connectError.code === Code.InvalidArgument;
      loadError = describeError(connectError);
    }
  }

  async function loadAttendees() {
    attendeesLoading = true;
    try {
      const page = await events.listAttendees({ eventId: id, pageSize: attendeePageSize });
      attendees = page.attendees;
      attendeesNext = page.nextPageToken;
    } catch {
      // The list is a nicety next to the counts; the counts stay live either way.
    } finally {
      attendeesLoading = false;
    }
  }

  async function loadMoreAttendees() {
    if (attendeesNext === "" || attendeesLoading) return;
    attendeesLoading = true;
    try {
      const page = await events.listAttendees({
        eventId: id,
        pageSize: attendeePageSize,
        pageToken: attendeesNext,
      });
      attendees = [...attendees, ...page.attendees];
      attendeesNext = page.nextPageToken;
    } catch (error) {
      actionError = describeError(error);
    } finally {
      attendeesLoading = false;
    }
  }

  function refreshAttendeesSoon() {
    clearTimeout(attendeeRefresh);
    attendeeRefresh = setTimeout(() => void loadAttendees(), 250);
  }

  /** Watch messages are the same for every watcher, so they never carry this viewer's RSVP. */
  function keepViewerRsvp(incoming: Event): Event {
    return { ...incoming, viewerRsvp: event?.viewerRsvp ?? RsvpStatus.UNSPECIFIED };
  }

  function apply(change: WatchEventResponse["change"]): "stop" | undefined {
    switch (change.case) {
      case "snapshot":
        event = keepViewerRsvp(change.value);
        refreshAttendeesSoon();
        return undefined;
      case "updated":
        event = keepViewerRsvp(change.value);
        announcement = "The organizer updated this event.";
        return undefined;
      case "cancelled":
        event = keepViewerRsvp(change.value);
        announcement = "This event was cancelled.";
        return undefined;
      case "attendance": {
        if (!event) return undefined;
        const { attendeeCount, waitlistCount, etag } = change.value;
        const wasWaitlisted = event.viewerRsvp === RsvpStatus.WAITLISTED;
        // The counts' own live region announces the new numbers.
        event = { ...event, attendeeCount, waitlistCount, etag };
        refreshAttendeesSoon();
        // A freed seat may have gone to this viewer.
        if (wasWaitlisted) void reload();
        return undefined;
      }
      case "deleted":
        deleted = true;
        announcement = "This event was deleted.";
        return "stop";
      default:
        return undefined;
    }
  }

  async function start(signal: AbortSignal) {
    await Promise.all([reload(), loadAttendees()]);
    if (signal.aborted || notFound) return;
    await followStream({
      signal,
      idleTimeoutMs: 90_000,
      open: ({ signal: attemptSignal, onHeader }) =>
        events.watchEvent({ id }, { signal: attemptSignal, onHeader }),
      onStatus: (status, error) => {
        liveStatus = status;
        if (error?.code === Code.NotFound) deleted = true;
      },
      onMessage: (message) => apply(message.change),
    });
    clearTimeout(attendeeRefresh);
  }

  async function act(action: () => Promise<void>): Promise<boolean> {
    busy = true;
    actionError = null;
    try {
      await action();
      return true;
    } catch (error) {
      actionError = describeError(error);
      return false;
    } finally {
      busy = false;
    }
  }

  return {
    get event() {
      return event;
    },
    get loadError() {
      return loadError;
    },
    get notFound() {
      return notFound;
    },
    get deleted() {
      return deleted;
    },
    get attendees() {
      return attendees;
    },
    get attendeesHasMore() {
      return attendeesNext !== "";
    },
    get attendeesLoading() {
      return attendeesLoading;
    },
    get liveStatus() {
      return liveStatus;
    },
    get busy() {
      return busy;
    },
    get actionError() {
      return actionError;
    },
    get announcement() {
      return announcement;
    },
    start,
    reload,
    loadMoreAttendees,
    join() {
      return act(async () => {
        const response = await events.joinEvent({ eventId: id });
        if (response.event) event = response.event;
        refreshAttendeesSoon();
      });
    },
    leave() {
      return act(async () => {
        const response = await events.leaveEvent({ eventId: id });
        if (response.event) event = response.event;
        refreshAttendeesSoon();
      });
    },
    cancel(reason) {
      return act(async () => {
        const response = await events.cancelEvent({ id, reason, etag: event?.etag ?? "" });
        if (response.event) event = keepViewerRsvp(response.event);
      });
    },
    remove() {
      return act(async () => {
        await events.deleteEvent({ id, etag: event?.etag ?? "" });
        deleted = true;
      });
    },
  };
}
