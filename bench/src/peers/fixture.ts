import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type Event,
  EventSchema,
  EventState,
  type GetEventResponse,
  GetEventResponseSchema,
} from "@grouppe/api";
import {
  type HealthCheckResponse,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "@grouppe/api/health";

/** The id of the one event the peers know. */
export const fixtureEventId = "0b7c5d3e-3f1a-4a52-9a7e-6d1f2c3b4a5e";

/**
 * An event shaped like the ones grouppe returns (every field set), so peers send responses
 * of the same size as grouppe's.
 */
export function fixtureEvent(): Event {
  const startsAt = new Date("2031-05-01T18:00:00Z");
  return create(EventSchema, {
    id: fixtureEventId,
    title: "Benchmark meetup",
    description: "An evening of talks about serving one protobuf API to every kind of caller.",
    startsAt: timestampFromDate(startsAt),
    endsAt: timestampFromDate(new Date(startsAt.getTime() + 3 * 3_600_000)),
    timeZone: "Europe/Berlin",
    location: { kind: { case: "address", value: "Alexanderplatz 1, 10178 Berlin" } },
    capacity: 100,
    attendeeCount: 42,
    waitlistCount: 0,
    organizer: { userId: "6f8e2a1c-9b3d-4e5f-8a7b-1c2d3e4f5a6b", displayName: "Bench Organizer" },
    state: EventState.SCHEDULED,
    createTime: timestampFromDate(new Date("2030-01-01T00:00:00Z")),
    updateTime: timestampFromDate(new Date("2030-01-02T00:00:00Z")),
    etag: "v43",
  });
}

/** The GetEvent answer every peer gives. */
export function fixtureGetEventResponse(): GetEventResponse {
  return create(GetEventResponseSchema, { event: fixtureEvent() });
}

/** The Health/Check answer every peer gives. */
export function servingResponse(): HealthCheckResponse {
  return create(HealthCheckResponseSchema, { status: HealthCheckResponse_ServingStatus.SERVING });
}
