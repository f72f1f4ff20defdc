import { clone, create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type Validator, violationsToProto } from "@bufbuild/protovalidate";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  type Event,
  EventSchema,
  type EventService,
  type GetEventResponse,
  GetEventResponseSchema,
  type ImportError,
  ImportErrorSchema,
  ImportEventsRequestSchema,
  Relation,
} from "@grouppe/api";
import { shareEncoding } from "@grouppe/engine";
import { DomainError } from "../domain/domain-error.js";
import { checkEventDetails } from "../domain/event-rules.js";
import { isInTimeRange } from "../domain/time-range.js";
import {
  describeViolations,
  eventNotFound,
  fromDomainError,
  grouppeError,
  invalidArgument,
  unauthenticated,
  validationFailed,
  violationPath,
} from "../errors.js";
import { type Caller, callerKey } from "../rpc/context.js";
import { malformedFields } from "../rpc/malformed-fields.js";
import { isUuid } from "../store/is-uuid.js";
import type { EventDetails, EventQuery, EventRecord, ImportRow } from "../store/records.js";
import type { EventStore } from "../store/stores.js";
import {
  toAttendeeMessage,
  toEventDetails,
  toEventMessage,
  versionOfEtag,
} from "./event-message.js";
import { type PageTokens, pageSize } from "./page-token.js";

type EventServiceImpl = ServiceImpl<typeof EventService>;

export interface EventServiceDeps {
  events: EventStore;
  validator: Validator;
  /** The streaming methods, from the live-updates layer. */
  watch: Pick<EventServiceImpl, "watchEvent" | "watchEvents">;
  /** Signs and checks list page tokens. */
  pageTokens: PageTokens;
  /** Rows written per transaction by ImportEvents. */
  importBatchSize?: number;
}

function userOf(context: HandlerContext): string | undefined {
  const caller: Caller = context.values.get(callerKey);
  return caller.kind === "user" ? caller.userId : undefined;
}

function signedInUser(context: HandlerContext): string {
  const userId = userOf(context);
  if (userId === undefined) throw unauthenticated("sign in first");
  return userId;
}

/** Maps a domain refusal to its API error, with field paths under `prefix`. */
async function mapped<T>(work: Promise<T>, prefix = "event"): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof DomainError) throw fromDomainError(error, prefix);
    throw error;
  }
}

/** Runs a domain rule; a refusal becomes its API error, with field paths under "event". */
function checked(rule: () => void): void {
  try {
    rule();
  } catch (error) {
    if (error instanceof DomainError) throw fromDomainError(error, "event");
    throw error;
  }
}

function requiredVersion(etag: string, field: string): number | undefined {
  if (etag === "") return undefined;
  const version = versionOfEtag(etag);
  if (version === undefined) {
    throw invalidArgument(`${field}: not an etag this server issued`, [
      { field, description: "not an etag this server issued", reason: "ETAG_INVALID" },
    ]);
  }
  return version;
}

const updatableFields: Record<string, keyof EventDetails> = {
  title: "title",
  description: "description",
  starts_at: "startsAt",
  ends_at: "endsAt",
  time_zone: "timeZone",
  location: "location",
  capacity: "capacity",
};

/** Where a ListEvents page ends: start time and id of its last event, and the fixed "upcoming" cut. */
interface EventPosition {
  s: number;
  i: string;
  n: number;
}

// Positions come back from clients; even a token this server signed is checked for the range
// the store can take, so no position can reach SQL as an invalid time.
function isEventPosition(value: unknown): value is EventPosition {
  const p = value as EventPosition;
  return (
    typeof p === "object" &&
    p !== null &&
    isStoredTime(p.s) &&
    isTime(p.n) &&
    typeof p.i === "string" &&
    isUuid(p.i)
  );
}

/**
 * A start time as the database holds it: rows from before requests were range-checked may lie
 * outside the API's range, and a page can end on one. The token is signed, so only its shape
 * is checked here.
 */
function isStoredTime(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && Math.abs(value) <= 8.64e15;
}

function isTime(value: unknown): value is number {
  return typeof value === "number" && isInTimeRange(value);
}

interface AttendeePosition {
  st: "attending" | "waitlisted";
  t: number;
  u: string;
}

function isAttendeePosition(value: unknown): value is AttendeePosition {
  const p = value as AttendeePosition;
  return (
    typeof p === "object" &&
    p !== null &&
    (p.st === "attending" || p.st === "waitlisted") &&
    isTime(p.t) &&
    typeof p.u === "string" &&
    isUuid(p.u)
  );
}

/** EventService: maps requests to the domain and the store, and records back to messages. */
export function createEventService(deps: EventServiceDeps): EventServiceImpl {
  const { events, validator, pageTokens } = deps;
  const batchSize = deps.importBatchSize ?? 500;
  /**
   * GetEvent's answer to anonymous readers, per record. The read cache hands out the same
   * record object until the event changes, so the answer is built once and, marked shared,
   * encoded once per wire format; a changed event is a new record, hence a new answer.
   */
  const anonymousAnswers = new WeakMap<EventRecord, GetEventResponse>();

  return {
    async getEvent(req, context) {
      const viewerId = userOf(context);
      const event = await events.get(req.id, viewerId);
      if (!event) throw eventNotFound();
      if (viewerId !== undefined) return { event: toEventMessage(event) };
      let answer = anonymousAnswers.get(event);
      if (answer === undefined) {
        answer = shareEncoding(create(GetEventResponseSchema, { event: toEventMessage(event) }));
        anonymousAnswers.set(event, answer);
      }
      return answer;
    },

    async listEvents(req, context) {
      const viewerId = userOf(context);
      const relationKind =
        req.relation === Relation.ORGANIZING
          ? "organizing"
          : req.relation === Relation.ATTENDING
            ? "attending"
            : undefined;
      if (relationKind && viewerId === undefined)
        throw unauthenticated("sign in to list your own events");
      const filters = {
        endsAfter: req.endsAfter ? timestampDate(req.endsAfter).getTime() : undefined,
        startsBefore: req.startsBefore ? timestampDate(req.startsBefore).getTime() : undefined,
        organizerId: req.organizerId || undefined,
        text: req.query.trim() || undefined,
        relation: relationKind ? { kind: relationKind, userId: viewerId } : undefined,
        includeCancelled: req.includeCancelled,
      };
      // "Upcoming" is fixed when the first page is read, so later pages do not shift.
      let endsAfter = filters.endsAfter ?? Date.now();
      let after: EventQuery["after"];
      if (req.pageToken !== "") {
        const position = pageTokens.decode(req.pageToken, filters, isEventPosition);
        after = { startsAt: new Date(position.s), id: position.i };
        endsAfter = position.n;
      }
      const limit = pageSize(req.pageSize, 20, 100);
      const rows = await events.list({
        endsAfter: new Date(endsAfter),
        startsBefore:
          filters.startsBefore === undefined ? undefined : new Date(filters.startsBefore),
        organizerId: filters.organizerId,
        text: filters.text,
        relation: relationKind && viewerId ? { kind: relationKind, userId: viewerId } : undefined,
        includeCancelled: filters.includeCancelled,
        after,
        limit: limit + 1,
        viewerId,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      const nextPageToken =
        rows.length > limit && last
          ? pageTokens.encode({ s: last.startsAt.getTime(), i: last.id, n: endsAfter }, filters)
          : "";
      return { events: page.map(toEventMessage), nextPageToken };
    },

    async createEvent(req, context) {
      const organizerId = signedInUser(context);
      if (!req.event) throw eventRequired();
      const details = toEventDetails(req.event);
      checked(() => checkEventDetails(details, { isNew: true }));
      const { event } = await mapped(
        events.create({ organizerId, details, requestId: req.requestId || undefined }),
      );
      return { event: toEventMessage(event) };
    },

    async updateEvent(req, context) {
      const viewerId = signedInUser(context);
      if (!req.event || req.event.id === "") throw eventIdRequired();
      const paths = req.updateMask?.paths ?? [];
      if (paths.length === 0) {
        throw invalidArgument("update_mask: name at least one field to change", [
          {
            field: "update_mask",
            description: "name at least one field to change",
            reason: "required",
          },
        ]);
      }
      const changes = req.event;
      const current = await events.get(changes.id, viewerId);
      if (!current) throw eventNotFound();
      if (current.state === "cancelled") {
        throw grouppeError(
          Code.FailedPrecondition,
          "EVENT_CANCELLED",
          "a cancelled event cannot be changed",
        );
      }
      const expectedVersion = requiredVersion(changes.etag, "event.etag");
      // The rules are checked against the event as locked in the transaction that writes the
      // change: checked against an earlier read, two updates without etags could each pass
      // and together store an event that ends before it starts.
      const updated = await mapped(
        events.update(
          current.id,
          (locked) => {
            const merged = mergeMasked(toEventMessage(locked), changes, paths);
            const result = validator.validate(EventSchema, merged);
            if (result.kind === "invalid") throw validationFailed(result.violations, "event");
            if (result.kind === "error") throw result.error;
            const details = toEventDetails(merged);
            checked(() => checkEventDetails(details, { isNew: false }));
            const patch: Partial<EventDetails> = {};
            for (const path of paths) {
              const key = updatableFields[path];
              if (key) Object.assign(patch, { [key]: details[key] });
            }
            return patch;
          },
          expectedVersion,
        ),
      );
      return { event: toEventMessage({ ...updated, viewerRsvp: current.viewerRsvp }) };
    },

    async cancelEvent(req) {
      const expectedVersion = requiredVersion(req.etag, "etag");
      const event = await mapped(events.cancel(req.id, req.reason.trim(), expectedVersion), "");
      return { event: toEventMessage(event) };
    },

    async deleteEvent(req) {
      const expectedVersion = requiredVersion(req.etag, "etag");
      await mapped(events.delete(req.id, expectedVersion), "");
      return {};
    },

    async joinEvent(req, context) {
      const userId = signedInUser(context);
      const { attendee, event } = await mapped(events.join(req.eventId, userId), "");
      return {
        attendee: toAttendeeMessage(attendee),
        event: toEventMessage({ ...event, viewerRsvp: attendee.status }),
      };
    },

    async leaveEvent(req, context) {
      const userId = signedInUser(context);
      const { event } = await mapped(events.leave(req.eventId, userId), "");
      return { event: toEventMessage({ ...event, viewerRsvp: undefined }) };
    },

    async listAttendees(req) {
      const filters = { e: req.eventId };
      const limit = pageSize(req.pageSize, 50, 500);
      const position =
        req.pageToken === ""
          ? undefined
          : pageTokens.decode(req.pageToken, filters, isAttendeePosition);
      if (!(await events.organizerOf(req.eventId))) throw eventNotFound();
      const rows = await events.listAttendees(req.eventId, {
        after: position
          ? { status: position.st, joinTime: new Date(position.t), userId: position.u }
          : undefined,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      const nextPageToken =
        rows.length > limit && last
          ? pageTokens.encode(
              { st: last.status, t: last.joinTime.getTime(), u: last.userId },
              filters,
            )
          : "";
      return { attendees: page.map(toAttendeeMessage), nextPageToken };
    },

    watchEvent: deps.watch.watchEvent,
    watchEvents: deps.watch.watchEvents,

    async importEvents(requests, context) {
      const caller = context.values.get(callerKey);
      const source = caller.kind === "service" ? caller.principal : "unknown";
      let received = 0;
      let createdCount = 0;
      let unchangedCount = 0;
      const errors: ImportError[] = [];
      let batch: { index: number; row: ImportRow }[] = [];

      const write = async (rows: { index: number; row: ImportRow }[]) => {
        const outcomes = await events.importBatch(
          source,
          rows.map((b) => b.row),
        );
        outcomes.forEach((outcome, i) => {
          const entry = rows[i];
          if (!entry) return;
          if (outcome.kind === "created") createdCount++;
          else if (outcome.kind === "unchanged") unchangedCount++;
          else
            errors.push(
              create(ImportErrorSchema, {
                index: entry.index,
                key: entry.row.key,
                reason: outcome.reason,
              }),
            );
        });
      };
      // One batch is written while the next one is read and checked, so the database and the
      // stream work side by side; never more than one, so a slow database slows the sender.
      let writing: Promise<void> = Promise.resolve();
      const flush = async () => {
        await writing;
        if (batch.length === 0) return;
        stopIfAborted(context.signal);
        writing = write(batch);
        // Awaited before the next batch or at the end; this only keeps an early failure from
        // counting as unhandled while the stream is still being read.
        writing.catch(() => undefined);
        batch = [];
      };

      for await (const row of requests) {
        const index = received++;
        const malformed = malformedFields(ImportEventsRequestSchema, row);
        if (malformed.length > 0) {
          errors.push(
            create(ImportErrorSchema, {
              index,
              // The key itself may be what is malformed; it is not echoed then.
              key: malformed.some((v) => v.field === "key") ? "" : row.key,
              reason: describeViolations(malformed),
            }),
          );
          continue;
        }
        const result = validator.validate(ImportEventsRequestSchema, row);
        if (result.kind !== "valid") {
          if (result.kind === "error") throw result.error;
          errors.push(
            create(ImportErrorSchema, {
              index,
              key: row.key,
              reason: result.violations.map((v) => `${violationPath(v)}: ${v.message}`).join("; "),
              violations: violationsToProto(result.violations)[0].violations,
            }),
          );
          continue;
        }
        if (!row.event) continue;
        const details = toEventDetails(row.event);
        try {
          checkEventDetails(details, { isNew: false });
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          errors.push(
            create(ImportErrorSchema, {
              index,
              key: row.key,
              reason: `event.${error.field}: ${error.message}`,
            }),
          );
          continue;
        }
        batch.push({ index, row: { key: row.key, organizerId: row.organizerId, details } });
        if (batch.length >= batchSize) await flush();
      }
      await flush();
      await writing;
      errors.sort((a, b) => a.index - b.index);
      return { receivedCount: received, createdCount, unchangedCount, errors };
    },
  };
}

/** Ends a call whose deadline passed or whose client went away, before it writes anything more. */
function stopIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw ConnectError.from(signal.reason, Code.Canceled);
}

function eventRequired() {
  return invalidArgument("event: required", [
    { field: "event", description: "value is required", reason: "required" },
  ]);
}

function eventIdRequired() {
  return invalidArgument("event.id: name the event to update", [
    { field: "event.id", description: "name the event to update", reason: "required" },
  ]);
}

/** The current event with the masked fields taken from the request (AIP-134). */
function mergeMasked(current: Event, changes: Event, paths: readonly string[]): Event {
  const merged = clone(EventSchema, current);
  const target = merged as unknown as Record<string, unknown>;
  const source = changes as unknown as Record<string, unknown>;
  for (const path of paths) {
    const field = EventSchema.fields.find((f) => f.name === path);
    if (field) target[field.localName] = source[field.localName];
  }
  merged.etag = changes.etag;
  return create(EventSchema, merged);
}
