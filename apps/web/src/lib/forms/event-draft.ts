import { clone, create, equals } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Event, EventSchema, LocationSchema } from "@grouppe/api";
import { dateToWallTime, wallTimeToDate } from "../format/zoned-time.js";
import type { FieldViolation, FormFieldMap } from "./field-violations.js";

/** What the event form holds while someone types: text, as the inputs give it. */
export interface EventDraft {
  title: string;
  description: string;
  /** datetime-local text in `timeZone`, e.g. "2026-03-14T18:30". */
  startsAt: string;
  endsAt: string;
  timeZone: string;
  locationKind: "address" | "online";
  address: string;
  onlineUrl: string;
  /** Seats as typed; empty means no limit. */
  capacity: string;
}

/** The event fields the organizer chooses: UpdateEvent's allowed update_mask paths. */
export const editableEventFields = [
  "title",
  "description",
  "starts_at",
  "ends_at",
  "time_zone",
  "location",
  "capacity",
] as const;

/** One of {@link editableEventFields}. */
export type EditableEventField = (typeof editableEventFields)[number];

/** How the event form's fields line up with CreateEventRequest, UpdateEventRequest and Event. */
export const eventFormFields: FormFieldMap = {
  prefixes: ["event."],
  fields: [
    "title",
    "description",
    "starts_at",
    "ends_at",
    "time_zone",
    "location",
    "location.address",
    "location.online_url",
    "capacity",
  ],
  ruleFields: { "event.ends_after_start": "ends_at" },
};

/** A new event's starting point: tomorrow evening in the zone, 18:00 to 20:00, no seat limit. */
export function emptyEventDraft(timeZone: string, now: Date = new Date()): EventDraft {
  const tomorrow = dateToWallTime(new Date(now.getTime() + 86_400_000), timeZone).slice(0, 10);
  return {
    title: "",
    description: "",
    startsAt: `${tomorrow}T18:00`,
    endsAt: `${tomorrow}T20:00`,
    timeZone,
    locationKind: "address",
    address: "",
    onlineUrl: "",
    capacity: "",
  };
}

/** The form's view of a stored event. */
export function draftFromEvent(event: Event): EventDraft {
  const kind = event.location?.kind;
  return {
    title: event.title,
    description: event.description,
    startsAt: event.startsAt ? dateToWallTime(timestampDate(event.startsAt), event.timeZone) : "",
    endsAt: event.endsAt ? dateToWallTime(timestampDate(event.endsAt), event.timeZone) : "",
    timeZone: event.timeZone,
    locationKind: kind?.case === "onlineUrl" ? "online" : "address",
    address: kind?.case === "address" ? kind.value : "",
    onlineUrl: kind?.case === "onlineUrl" ? kind.value : "",
    capacity: event.capacity > 0 ? String(event.capacity) : "",
  };
}

/** What the draft says, as an Event message; fields the draft cannot express are left unset. */
export function eventFromDraft(draft: EventDraft): Event {
  const startsAt = wallTimeToDate(draft.startsAt, draft.timeZone);
  const endsAt = wallTimeToDate(draft.endsAt, draft.timeZone);
  const capacity = parseCapacity(draft.capacity);
  return create(EventSchema, {
    title: draft.title.trim(),
    description: draft.description.trim(),
    startsAt: startsAt ? timestampFromDate(startsAt) : undefined,
    endsAt: endsAt ? timestampFromDate(endsAt) : undefined,
    timeZone: draft.timeZone,
    location: create(LocationSchema, {
      kind:
        draft.locationKind === "online"
          ? { case: "onlineUrl", value: draft.onlineUrl.trim() }
          : { case: "address", value: draft.address.trim() },
    }),
    capacity: capacity ?? 0,
  });
}

function parseCapacity(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return 0;
  if (!/^-?\d{1,9}$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

/**
 * What the draft gets wrong before protovalidate can even look: text that is not a date and
 * time, or seats that are not a whole number. The Event rules catch everything else.
 */
export function draftProblems(draft: EventDraft): FieldViolation[] {
  const problems: FieldViolation[] = [];
  const badTime = (text: string) =>
    text.trim() !== "" && wallTimeToDate(text, draft.timeZone) === undefined;
  if (draft.timeZone !== "" && badTime(draft.startsAt)) {
    problems.push({ path: "starts_at", ruleId: "draft.datetime", message: "not a date and time" });
  }
  if (draft.timeZone !== "" && badTime(draft.endsAt)) {
    problems.push({ path: "ends_at", ruleId: "draft.datetime", message: "not a date and time" });
  }
  if (parseCapacity(draft.capacity) === undefined) {
    problems.push({ path: "capacity", ruleId: "draft.integer", message: "not a whole number" });
  }
  return problems;
}

/** Where each of {@link editableEventFields} lives on the Event message. */
const eventFieldKeys = {
  title: "title",
  description: "description",
  starts_at: "startsAt",
  ends_at: "endsAt",
  time_zone: "timeZone",
  location: "location",
  capacity: "capacity",
} as const satisfies Record<EditableEventField, keyof Event>;

function copyField<Key extends keyof Event>(target: Event, source: Event, key: Key): void {
  target[key] = source[key];
}

/** Whether two events agree on one field, compared the protobuf way (a timestamp by value). */
function fieldEquals(a: Event, b: Event, field: EditableEventField): boolean {
  const onlyA = create(EventSchema);
  const onlyB = create(EventSchema);
  copyField(onlyA, a, eventFieldKeys[field]);
  copyField(onlyB, b, eventFieldKeys[field]);
  return equals(EventSchema, onlyA, onlyB);
}

/** The update_mask paths of the fields an edit changed, in API order. */
export function changedEventFields(before: Event, after: Event): EditableEventField[] {
  return editableEventFields.filter((field) => !fieldEquals(before, after, field));
}

/**
 * The event as it will be once the changed fields are applied: what UpdateEvent checks the
 * Event rules on, so the browser checks the same thing.
 */
export function mergeEventChanges(
  stored: Event,
  edited: Event,
  fields: readonly EditableEventField[],
): Event {
  const merged = clone(EventSchema, stored);
  for (const field of fields) copyField(merged, edited, eventFieldKeys[field]);
  return merged;
}
