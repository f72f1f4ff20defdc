import { create, type JsonValue, toJson } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Event, EventSchema } from "@grouppe/api";

const day = 86_400_000;

/** A valid new event, a week from now, with any fields overridden. */
export function eventInput(
  overrides: { title?: string; capacity?: number; startsInDays?: number } = {},
): Event {
  const start = new Date(Date.now() + (overrides.startsInDays ?? 7) * day);
  return create(EventSchema, {
    title: overrides.title ?? "Svelte meetup",
    description: "Runes in practice",
    startsAt: timestampFromDate(start),
    endsAt: timestampFromDate(new Date(start.getTime() + 2 * 3_600_000)),
    timeZone: "Europe/Berlin",
    location: { kind: { case: "address", value: "Hafenstrasse 1, Hamburg" } },
    capacity: overrides.capacity ?? 30,
  });
}

/** {@link eventInput} as Connect JSON, for tests that speak the wire format themselves. */
export function eventInputJson(overrides: Parameters<typeof eventInput>[0] = {}): JsonValue {
  return toJson(EventSchema, eventInput(overrides));
}
