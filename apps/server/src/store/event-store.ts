import { randomUUID } from "node:crypto";
import { DomainError } from "../domain/domain-error.js";
import type { Db, Queryable } from "./db.js";
import { type EventRow, eventColumns, locationColumns, toEventRecord } from "./event-row.js";
import { isUuid } from "./is-uuid.js";
import { notifyChange } from "./notify-change.js";
import {
  type AttendeeRecord,
  changeChannel,
  type EventDetails,
  type EventRecord,
  type ImportOutcome,
  type ImportRow,
  type RsvpStatus,
} from "./records.js";
import { sqlErrorOf, sqlState } from "./sql-error.js";
import { escapeLike, SqlParams } from "./sql-params.js";
import type { EventStore } from "./stores.js";

/** What a mutation reads from the event row it locked. */
interface LockedEvent {
  capacity: number;
  attendee_count: number;
  waitlist_count: number;
  state: "scheduled" | "cancelled";
  version: number;
  ended: boolean;
}

interface AttendeeRow {
  user_id: string;
  display_name: string;
  status: RsvpStatus;
  join_time: Date;
  waitlist_position: number | string;
}

const eventNotFound = () => new DomainError("EVENT_NOT_FOUND", "event not found");

/** Reads one event with its organizer's name and the viewer's RSVP; `$1` id, `$2` viewer. */
const selectEventSql = `SELECT ${eventColumns}, u.display_name AS organizer_name, v.status AS viewer_rsvp
  FROM events e
  JOIN users u ON u.id = e.organizer_id
  LEFT JOIN rsvps v ON v.event_id = e.id AND v.user_id = $2
  WHERE e.id = $1`;

/** Locks an event row for the rest of the transaction; every mutation starts here. */
const lockEventSql = `SELECT capacity, attendee_count, waitlist_count, state, version, ends_at <= now() AS ended
  FROM events WHERE id = $1 FOR UPDATE`;

/** The next join time of an event: now to the millisecond, but always after every RSVP it has. */
const nextJoinTimeSql = `greatest(date_trunc('milliseconds', clock_timestamp()),
  (SELECT max(join_time) + interval '1 millisecond' FROM rsvps WHERE event_id = $1))`;

async function readEvent(
  tx: Queryable,
  id: string,
  viewerId?: string,
): Promise<EventRecord | undefined> {
  const [row] = await tx.query<EventRow>(selectEventSql, [id, isUuid(viewerId) ? viewerId : null]);
  return row && toEventRecord(row);
}

async function lockEvent(
  tx: Queryable,
  id: string,
  expectedVersion?: number,
): Promise<LockedEvent> {
  const [locked] = await tx.query<LockedEvent>(lockEventSql, [id]);
  if (!locked) throw eventNotFound();
  if (expectedVersion !== undefined && Number(locked.version) !== expectedVersion) {
    throw new DomainError("ETAG_MISMATCH", "the event changed since it was read; read it again");
  }
  return locked;
}

/**
 * Writes `sets` (SQL assignments using `params`) to a locked event, bumps its version and
 * update time, and returns the event as it is now. `$1` must be the event id.
 */
async function writeEvent(tx: Queryable, params: SqlParams, sets: string[]): Promise<EventRecord> {
  const assignments = [...sets, "version = version + 1", "update_time = clock_timestamp()"].join(
    ", ",
  );
  const [row] = await tx.query<EventRow>(
    `WITH e AS (UPDATE events SET ${assignments} WHERE id = $1 RETURNING *)
     SELECT ${eventColumns}, u.display_name AS organizer_name, NULL AS viewer_rsvp
     FROM e JOIN users u ON u.id = e.organizer_id`,
    params.values,
  );
  if (!row) throw eventNotFound();
  return toEventRecord(row);
}

/** Seats that may be given to the waitlist now. Capacity 0 means every seat is free. */
function seatsToFill(capacity: number, attendeeCount: number, waitlistCount: number): number {
  const free = capacity === 0 ? waitlistCount : capacity - attendeeCount;
  return Math.max(0, Math.min(free, waitlistCount));
}

/** Moves the first `count` people on the waitlist to seats, in waitlist order. */
async function promote(tx: Queryable, eventId: string, count: number): Promise<number> {
  if (count <= 0) return 0;
  const promoted = await tx.query(
    `UPDATE rsvps SET status = 'attending'
     WHERE event_id = $1 AND user_id IN (
       SELECT user_id FROM rsvps WHERE event_id = $1 AND status = 'waitlisted'
       ORDER BY join_time, user_id LIMIT $2)
     RETURNING user_id`,
    [eventId, count],
  );
  return promoted.length;
}

async function insertEvent(
  tx: Queryable,
  id: string,
  organizerId: string,
  details: EventDetails,
): Promise<EventRecord> {
  const location = locationColumns(details.location);
  try {
    const [row] = await tx.query<EventRow>(
      `WITH e AS (
         INSERT INTO events (id, organizer_id, title, description, starts_at, ends_at, time_zone,
           location_kind, location_value, capacity, create_time, update_time)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now(), now())
         RETURNING *)
       SELECT ${eventColumns}, u.display_name AS organizer_name, NULL AS viewer_rsvp
       FROM e JOIN users u ON u.id = e.organizer_id`,
      [
        id,
        organizerId,
        details.title,
        details.description,
        details.startsAt,
        details.endsAt,
        details.timeZone,
        location.kind,
        location.value,
        details.capacity,
      ],
    );
    if (!row) throw new DomainError("USER_NOT_FOUND", "the organizer does not exist");
    return toEventRecord(row);
  } catch (error) {
    if (sqlErrorOf(error).code === sqlState.foreignKeyViolation) {
      throw new DomainError("USER_NOT_FOUND", "the organizer does not exist");
    }
    throw error;
  }
}

function toAttendee(eventId: string, row: AttendeeRow): AttendeeRecord {
  return {
    eventId,
    userId: row.user_id,
    displayName: row.display_name,
    status: row.status,
    waitlistPosition: Number(row.waitlist_position),
    joinTime: row.join_time,
  };
}

/** The distinct words of a search, at most 16 of them. */
function searchWords(text: string | undefined): string[] {
  if (!text) return [];
  return [...new Set(text.trim().split(/\s+/).filter(Boolean))].slice(0, 16);
}

/** The {@link EventStore} on either engine. */
export function createEventStore(db: Db): EventStore {
  return {
    async create({ organizerId, details, requestId }) {
      if (!isUuid(organizerId))
        throw new DomainError("USER_NOT_FOUND", "the organizer does not exist");
      return db.transaction(async (tx) => {
        const id = randomUUID();
        if (requestId !== undefined) {
          // The losers of a race wait on the winner's key and then read its event. A key whose
          // event was deleted in between is gone as well, so the next round claims it.
          let claimed = false;
          for (let round = 0; round < 3 && !claimed; round++) {
            const rows = await tx.query(
              `INSERT INTO create_requests (organizer_id, request_id, event_id) VALUES ($1, $2, $3)
               ON CONFLICT (organizer_id, request_id) DO NOTHING RETURNING event_id`,
              [organizerId, requestId, id],
            );
            claimed = rows.length > 0;
            if (claimed) break;
            const [winner] = await tx.query<{ event_id: string }>(
              "SELECT event_id FROM create_requests WHERE organizer_id = $1 AND request_id = $2",
              [organizerId, requestId],
            );
            const event = winner && (await readEvent(tx, winner.event_id));
            if (event) return { event, created: false };
          }
          if (!claimed) throw new Error("could not claim the request id of CreateEvent");
        }
        const event = await insertEvent(tx, id, organizerId, details);
        await notifyChange(tx, { e: event.id, v: event.version, k: "created" });
        return { event, created: true };
      });
    },

    async get(id, viewerId) {
      if (!isUuid(id)) return undefined;
      return readEvent(db, id, viewerId);
    },

    async organizerOf(id) {
      if (!isUuid(id)) return undefined;
      const [row] = await db.query<{ organizer_id: string }>(
        "SELECT organizer_id FROM events WHERE id = $1",
        [id],
      );
      return row?.organizer_id;
    },

    async list(query) {
      const params = new SqlParams();
      const viewer = params.add(isUuid(query.viewerId) ? query.viewerId : null);
      const where = [`e.ends_at > ${params.add(query.endsAfter)}`];
      if (query.startsBefore) where.push(`e.starts_at < ${params.add(query.startsBefore)}`);
      if (query.organizerId !== undefined) {
        if (!isUuid(query.organizerId)) return [];
        where.push(`e.organizer_id = ${params.add(query.organizerId)}`);
      }
      if (!query.includeCancelled) where.push("e.state = 'scheduled'");
      if (query.relation) {
        if (!isUuid(query.relation.userId)) return [];
        const user = params.add(query.relation.userId);
        where.push(
          query.relation.kind === "organizing"
            ? `e.organizer_id = ${user}`
            : `EXISTS (SELECT 1 FROM rsvps r WHERE r.event_id = e.id AND r.user_id = ${user})`,
        );
      }
      for (const word of searchWords(query.text)) {
        const pattern = params.add(`%${escapeLike(word)}%`);
        where.push(
          `(e.title ILIKE ${pattern} OR e.description ILIKE ${pattern}
            OR (e.location_kind = 'address' AND e.location_value ILIKE ${pattern}))`,
        );
      }
      if (query.after) {
        if (!isUuid(query.after.id)) return [];
        where.push(
          `(e.starts_at, e.id) > (${params.add(query.after.startsAt)}, ${params.add(query.after.id)})`,
        );
      }
      const limit = params.add(Math.max(0, Math.floor(query.limit)));
      const rows = await db.query<EventRow>(
        `SELECT ${eventColumns}, u.display_name AS organizer_name, v.status AS viewer_rsvp
         FROM events e
         JOIN users u ON u.id = e.organizer_id
         LEFT JOIN rsvps v ON v.event_id = e.id AND v.user_id = ${viewer}
         WHERE ${where.join(" AND ")}
         ORDER BY e.starts_at, e.id
         LIMIT ${limit}`,
        params.values,
      );
      return rows.map(toEventRecord);
    },

    async update(id, change, expectedVersion) {
      if (!isUuid(id)) throw eventNotFound();
      return db.transaction(async (tx) => {
        const locked = await lockEvent(tx, id, expectedVersion);
        if (locked.state === "cancelled") {
          throw new DomainError("EVENT_CANCELLED", "a cancelled event cannot be changed");
        }
        let patch: Partial<EventDetails>;
        if (typeof change === "function") {
          const current = await readEvent(tx, id);
          if (!current) throw eventNotFound();
          patch = change(current);
        } else {
          patch = change;
        }
        const params = new SqlParams();
        params.add(id);
        const sets: string[] = [];
        const set = (column: string, value: unknown) =>
          sets.push(`${column} = ${params.add(value)}`);
        if (patch.title !== undefined) set("title", patch.title);
        if (patch.description !== undefined) set("description", patch.description);
        if (patch.startsAt !== undefined) set("starts_at", patch.startsAt);
        if (patch.endsAt !== undefined) set("ends_at", patch.endsAt);
        if (patch.timeZone !== undefined) set("time_zone", patch.timeZone);
        if (patch.location !== undefined) {
          const location = locationColumns(patch.location);
          set("location_kind", location.kind);
          set("location_value", location.value);
        }
        if (patch.capacity !== undefined && patch.capacity !== locked.capacity) {
          const capacity = patch.capacity;
          if (capacity !== 0 && capacity < locked.attendee_count) {
            throw new DomainError(
              "CAPACITY_BELOW_ATTENDANCE",
              `capacity ${capacity} is below the ${locked.attendee_count} people already attending`,
              "capacity",
            );
          }
          const promoted = await promote(
            tx,
            id,
            seatsToFill(capacity, locked.attendee_count, locked.waitlist_count),
          );
          set("capacity", capacity);
          set("attendee_count", locked.attendee_count + promoted);
          set("waitlist_count", locked.waitlist_count - promoted);
        }
        const event = await writeEvent(tx, params, sets);
        await notifyChange(tx, { e: id, v: event.version, k: "updated" });
        return event;
      });
    },

    async cancel(id, reason, expectedVersion) {
      if (!isUuid(id)) throw eventNotFound();
      return db.transaction(async (tx) => {
        const locked = await lockEvent(tx, id, expectedVersion);
        if (locked.state === "cancelled")
          throw new DomainError("EVENT_CANCELLED", "the event is already cancelled");
        const params = new SqlParams();
        params.add(id);
        const event = await writeEvent(tx, params, [
          "state = 'cancelled'",
          `cancel_reason = ${params.add(reason)}`,
        ]);
        await notifyChange(tx, { e: id, v: event.version, k: "cancelled" });
        return event;
      });
    },

    async delete(id, expectedVersion) {
      if (!isUuid(id)) throw eventNotFound();
      await db.transaction(async (tx) => {
        await lockEvent(tx, id, expectedVersion);
        await tx.query("DELETE FROM events WHERE id = $1", [id]);
        await notifyChange(tx, { e: id, v: 0, k: "deleted" });
      });
    },

    async join(eventId, userId) {
      if (!isUuid(eventId)) throw eventNotFound();
      if (!isUuid(userId)) throw new DomainError("USER_NOT_FOUND", "the user does not exist");
      return db.transaction(async (tx) => {
        const locked = await lockEvent(tx, eventId);
        if (locked.state === "cancelled")
          throw new DomainError("EVENT_CANCELLED", "the event is cancelled");
        if (locked.ended) throw new DomainError("EVENT_ENDED", "the event has ended");
        const [existing] = await tx.query<AttendeeRow>(
          `SELECT r.user_id, u.display_name, r.status, r.join_time,
             CASE WHEN r.status = 'waitlisted' THEN (
               SELECT count(*) FROM rsvps w
               WHERE w.event_id = r.event_id AND w.status = 'waitlisted'
                 AND (w.join_time, w.user_id) <= (r.join_time, r.user_id))
             ELSE 0 END AS waitlist_position
           FROM rsvps r JOIN users u ON u.id = r.user_id
           WHERE r.event_id = $1 AND r.user_id = $2`,
          [eventId, userId],
        );
        if (existing) {
          const event = await readEvent(tx, eventId, userId);
          if (!event) throw eventNotFound();
          return { attendee: toAttendee(eventId, existing), event };
        }
        const attending = locked.capacity === 0 || locked.attendee_count < locked.capacity;
        const status: RsvpStatus = attending ? "attending" : "waitlisted";
        let inserted: AttendeeRow | undefined;
        try {
          [inserted] = await tx.query<AttendeeRow>(
            `WITH r AS (
               INSERT INTO rsvps (event_id, user_id, status, join_time) VALUES ($1, $2, $3, ${nextJoinTimeSql})
               RETURNING user_id, status, join_time)
             SELECT r.user_id, u.display_name, r.status, r.join_time, 0 AS waitlist_position
             FROM r JOIN users u ON u.id = r.user_id`,
            [eventId, userId, status],
          );
        } catch (error) {
          if (sqlErrorOf(error).code === sqlState.foreignKeyViolation) {
            throw new DomainError("USER_NOT_FOUND", "the user does not exist");
          }
          throw error;
        }
        if (!inserted) throw new DomainError("USER_NOT_FOUND", "the user does not exist");
        const params = new SqlParams();
        params.add(eventId);
        const event = await writeEvent(tx, params, [
          `attendee_count = ${params.add(locked.attendee_count + (attending ? 1 : 0))}`,
          `waitlist_count = ${params.add(locked.waitlist_count + (attending ? 0 : 1))}`,
        ]);
        await notifyChange(tx, { e: eventId, v: event.version, k: "attendance" });
        const attendee = toAttendee(eventId, {
          ...inserted,
          waitlist_position: attending ? 0 : event.waitlistCount,
        });
        return { attendee, event: { ...event, viewerRsvp: status } };
      });
    },

    async leave(eventId, userId) {
      if (!isUuid(eventId)) throw eventNotFound();
      return db.transaction(async (tx) => {
        const locked = await lockEvent(tx, eventId);
        const removed = isUuid(userId)
          ? await tx.query<{ status: RsvpStatus }>(
              "DELETE FROM rsvps WHERE event_id = $1 AND user_id = $2 RETURNING status",
              [eventId, userId],
            )
          : [];
        const [rsvp] = removed;
        if (!rsvp) {
          const event = await readEvent(tx, eventId);
          if (!event) throw eventNotFound();
          return { event };
        }
        let attendeeCount = locked.attendee_count;
        let waitlistCount = locked.waitlist_count;
        if (rsvp.status === "attending") attendeeCount--;
        else waitlistCount--;
        const promoted = await promote(
          tx,
          eventId,
          seatsToFill(locked.capacity, attendeeCount, waitlistCount),
        );
        const params = new SqlParams();
        params.add(eventId);
        const event = await writeEvent(tx, params, [
          `attendee_count = ${params.add(attendeeCount + promoted)}`,
          `waitlist_count = ${params.add(waitlistCount - promoted)}`,
        ]);
        await notifyChange(tx, { e: eventId, v: event.version, k: "attendance" });
        return { event };
      });
    },

    async listAttendees(eventId, page) {
      if (!isUuid(eventId)) return [];
      const params = new SqlParams();
      params.add(eventId);
      let after = "";
      if (page.after) {
        if (!isUuid(page.after.userId)) return [];
        after = `AND (r.status, r.join_time, r.user_id) > (${params.add(page.after.status)}::text, ${params.add(page.after.joinTime)}::timestamptz, ${params.add(page.after.userId)}::uuid)`;
      }
      const limit = params.add(Math.max(0, Math.floor(page.limit)));
      // One statement, so the positions agree with the page even while people come and go:
      // the first waitlisted row's position is everyone waiting before it, plus one.
      const rows = await db.query<AttendeeRow>(
        `WITH page AS (
           SELECT r.user_id, r.status, r.join_time FROM rsvps r
           WHERE r.event_id = $1 ${after}
           ORDER BY r.status, r.join_time, r.user_id
           LIMIT ${limit}),
         ahead AS (
           SELECT count(*) AS n FROM rsvps w
           WHERE w.event_id = $1 AND w.status = 'waitlisted'
             AND (w.join_time, w.user_id) < (
               SELECT p.join_time, p.user_id FROM page p WHERE p.status = 'waitlisted'
               ORDER BY p.join_time, p.user_id LIMIT 1))
         SELECT p.user_id, u.display_name, p.status, p.join_time,
           CASE WHEN p.status = 'waitlisted'
             THEN (SELECT n FROM ahead) + row_number() OVER (PARTITION BY p.status ORDER BY p.join_time, p.user_id)
             ELSE 0 END AS waitlist_position
         FROM page p JOIN users u ON u.id = p.user_id
         ORDER BY p.status, p.join_time, p.user_id`,
        params.values,
      );
      return rows.map((row) => toAttendee(eventId, row));
    },

    async importBatch(source, rows) {
      if (rows.length === 0) return [];
      // A few statements per batch whatever its size: on PGlite and over a network alike the
      // cost of a batch is its round trips, not its rows.
      return db.transaction(async (tx) => {
        const organizerIds = [
          ...new Set(rows.map((row) => row.organizerId.toLowerCase()).filter(isUuid)),
        ];
        const found = await tx.query<{ id: string }>(
          "SELECT id FROM users WHERE id = ANY($1::uuid[])",
          [organizerIds],
        );
        const organizers = new Set(found.map((row) => row.id));
        const outcomes: ImportOutcome[] = new Array(rows.length);
        const candidates: { index: number; row: ImportRow; id: string }[] = [];
        rows.forEach((row, index) => {
          if (organizers.has(row.organizerId.toLowerCase())) {
            candidates.push({ index, row, id: randomUUID() });
          } else {
            outcomes[index] = {
              kind: "rejected",
              reason: `USER_NOT_FOUND: organizer ${row.organizerId} does not exist`,
            };
          }
        });
        if (candidates.length === 0) return outcomes;

        // Keys are claimed in one global order, so concurrent batches that share keys wait
        // for each other instead of deadlocking. A key twice in one batch is claimed once.
        const claimed = await tx.query<{ key: string; event_id: string }>(
          `INSERT INTO import_keys (source, key, event_id)
           SELECT $1, k.key, k.event_id
           FROM unnest($2::text[], $3::uuid[]) WITH ORDINALITY AS k (key, event_id, n)
           ORDER BY k.key COLLATE "C", k.n
           ON CONFLICT (source, key) DO NOTHING
           RETURNING key, event_id`,
          [source, candidates.map((c) => c.row.key), candidates.map((c) => c.id)],
        );
        const eventIdByKey = new Map(claimed.map((row) => [row.key, row.event_id]));
        const created = candidates.filter((c) => eventIdByKey.get(c.row.key) === c.id);
        const unclaimedKeys = [
          ...new Set(candidates.filter((c) => !eventIdByKey.has(c.row.key)).map((c) => c.row.key)),
        ];
        if (unclaimedKeys.length > 0) {
          const existing = await tx.query<{ key: string; event_id: string }>(
            "SELECT key, event_id FROM import_keys WHERE source = $1 AND key = ANY($2::text[])",
            [source, unclaimedKeys],
          );
          for (const row of existing) eventIdByKey.set(row.key, row.event_id);
        }

        if (created.length > 0) {
          const locations = created.map((c) => locationColumns(c.row.details.location));
          const inserted = await tx.query<{ id: string; version: string | number }>(
            `INSERT INTO events (id, organizer_id, title, description, starts_at, ends_at,
               time_zone, location_kind, location_value, capacity, create_time, update_time)
             SELECT r.id, r.organizer_id, r.title, r.description, r.starts_at, r.ends_at,
               r.time_zone, r.location_kind, r.location_value, r.capacity, now(), now()
             FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[],
               $6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::int[])
               AS r (id, organizer_id, title, description, starts_at, ends_at, time_zone,
                 location_kind, location_value, capacity)
             RETURNING id, version`,
            [
              created.map((c) => c.id),
              created.map((c) => c.row.organizerId),
              created.map((c) => c.row.details.title),
              created.map((c) => c.row.details.description),
              created.map((c) => c.row.details.startsAt.toISOString()),
              created.map((c) => c.row.details.endsAt.toISOString()),
              created.map((c) => c.row.details.timeZone),
              locations.map((location) => location.kind),
              locations.map((location) => location.value),
              created.map((c) => c.row.details.capacity),
            ],
          );
          // One statement queues every notice; each is still delivered on its own at commit.
          await tx.query("SELECT pg_notify($1, n) FROM unnest($2::text[]) AS n", [
            changeChannel,
            inserted.map((row) =>
              JSON.stringify({ e: row.id, v: Number(row.version), k: "created" }),
            ),
          ]);
        }

        for (const { index, row, id } of candidates) {
          const eventId = eventIdByKey.get(row.key);
          if (eventId === undefined)
            throw new Error(`import key ${row.key} vanished while importing`);
          outcomes[index] =
            eventId === id ? { kind: "created", eventId } : { kind: "unchanged", eventId };
        }
        return outcomes;
      });
    },
  };
}
