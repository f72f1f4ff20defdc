import type { CalendarFeedStore } from "./calendar-feed-store.js";
import type {
  AttendeeRecord,
  EventDetails,
  EventQuery,
  EventRecord,
  ImportOutcome,
  ImportRow,
  UserRecord,
} from "./records.js";

/**
 * Events and RSVPs. Every mutating method runs in one transaction and, inside it, sends a
 * {@link ChangeNotice} with `pg_notify`, so listeners hear of a change only once it committed.
 * Failures are {@link DomainError}s.
 */
export interface EventStore {
  /**
   * Creates an event. With a `requestId`, a second call by the same organizer with the same id
   * returns the first call's event and `created: false`, however many race.
   */
  create(input: { organizerId: string; details: EventDetails; requestId?: string }): Promise<{
    event: EventRecord;
    created: boolean;
  }>;
  get(id: string, viewerId?: string): Promise<EventRecord | undefined>;
  /** The organizer's id, or undefined when there is no such event; for authorization. */
  organizerOf(id: string): Promise<string | undefined>;
  list(query: EventQuery): Promise<EventRecord[]>;
  /**
   * Changes the given fields. `expectedVersion` (from the etag) fails with ETAG_MISMATCH when
   * stale. Lowering capacity below the attendee count fails with CAPACITY_BELOW_ATTENDANCE;
   * raising it promotes people from the waitlist in order.
   *
   * `patch` may be a function of the event as it is once locked: it runs inside the
   * transaction that writes its result, so rules checked there hold for what is stored even
   * when other updates race; whatever it throws rolls the transaction back and reaches the
   * caller.
   */
  update(id: string, patch: EventPatch, expectedVersion?: number): Promise<EventRecord>;
  cancel(id: string, reason: string, expectedVersion?: number): Promise<EventRecord>;
  delete(id: string, expectedVersion?: number): Promise<void>;
  /**
   * RSVPs a user: a seat while any are free, otherwise the end of the waitlist. Joining again
   * changes nothing. Enforced in SQL (row lock on the event), so concurrent joins on any
   * number of processes never overbook.
   */
  join(eventId: string, userId: string): Promise<{ attendee: AttendeeRecord; event: EventRecord }>;
  /** Withdraws an RSVP; a freed seat goes to the first on the waitlist. */
  leave(eventId: string, userId: string): Promise<{ event: EventRecord }>;
  /** Attendees in join order, then the waitlist in order; keyset pagination. */
  listAttendees(
    eventId: string,
    page: {
      after?: { status: "attending" | "waitlisted"; joinTime: Date; userId: string };
      limit: number;
    },
  ): Promise<AttendeeRecord[]>;
  /** Writes a batch of import rows in one transaction, idempotent per (source, key). */
  importBatch(source: string, rows: readonly ImportRow[]): Promise<ImportOutcome[]>;
}

export interface UserStore {
  /** Fails with EMAIL_TAKEN when the (case-insensitive) email exists. */
  create(input: { email: string; displayName: string; passwordHash: string }): Promise<UserRecord>;
  get(id: string): Promise<UserRecord | undefined>;
  findByEmail(email: string): Promise<{ user: UserRecord; passwordHash: string } | undefined>;
}

/**
 * Refresh tokens, stored only as hashes. Tokens of one sign-in form a family; each token works
 * once. Presenting a used or revoked token revokes its whole family (theft detection).
 */
export interface SessionStore {
  create(input: {
    userId: string;
    familyId: string;
    tokenHash: string;
    expiresAt: Date;
  }): Promise<void>;
  /**
   * Atomically marks `tokenHash` used and stores `next` in the same family. Outcomes:
   * `rotated` (with the user id), `reused` (family now revoked), `expired` or `unknown`.
   */
  rotate(
    tokenHash: string,
    next: { tokenHash: string; expiresAt: Date },
  ): Promise<
    | { kind: "rotated"; userId: string; familyId: string }
    | { kind: "reused" | "expired" | "unknown" }
  >;
  /** Revokes the family the token belongs to; unknown tokens are ignored. */
  revokeFamily(tokenHash: string): Promise<void>;
}

export interface Stores {
  events: EventStore;
  users: UserStore;
  sessions: SessionStore;
  calendarFeeds: CalendarFeedStore;
}

/** The fields to change, or a function of the locked event that says them (see `update`). */
export type EventPatch = Partial<EventDetails> | ((current: EventRecord) => Partial<EventDetails>);
