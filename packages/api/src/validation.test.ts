import { create } from "@bufbuild/protobuf";
import { pathToString } from "@bufbuild/protobuf/reflect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createValidator } from "@bufbuild/protovalidate";
import { describe, expect, it } from "vitest";
import { CreateEventRequestSchema, ListEventsRequestSchema, SignUpRequestSchema } from "./index.js";

const validator = createValidator();
const hour = 3_600_000;
const start = new Date(Date.UTC(2030, 0, 1, 18));

function validCreateRequest() {
  return create(CreateEventRequestSchema, {
    event: {
      title: "Svelte meetup",
      description: "Runes in practice",
      startsAt: timestampFromDate(start),
      endsAt: timestampFromDate(new Date(start.getTime() + 2 * hour)),
      timeZone: "Europe/Berlin",
      location: { kind: { case: "onlineUrl", value: "https://meet.example.com/svelte" } },
      capacity: 30,
    },
    requestId: "9b2f6f7e-0c39-4c36-9a51-3f3b0f7b2a10",
  });
}

/** Each violation as "field path: rule id", the way clients match them to form fields. */
function violations(result: ReturnType<typeof validator.validate>) {
  if (result.kind !== "invalid") return [];
  return result.violations.map((v) => `${pathToString(v.field)}: ${v.ruleId}`);
}

describe("CreateEventRequest rules", () => {
  it("accepts a valid request", () => {
    const result = validator.validate(CreateEventRequestSchema, validCreateRequest());
    expect(result.kind).toBe("valid");
  });

  it("reports an empty title, an end before the start and a bad URL", () => {
    const request = validCreateRequest();
    const event = request.event;
    if (!event) throw new Error("request has no event");
    event.title = "";
    event.endsAt = timestampFromDate(new Date(start.getTime() - hour));
    event.location = {
      $typeName: "grouppe.v1.Location",
      kind: { case: "onlineUrl", value: "not a url" },
    };
    expect(violations(validator.validate(CreateEventRequestSchema, request)).sort()).toEqual([
      "event.location.online_url: location.online_url.scheme",
      "event.location.online_url: string.uri",
      "event.title: string.min_len",
      "event: event.ends_after_start",
    ]);
  });

  it("requires a location, a start and an end", () => {
    const request = validCreateRequest();
    const event = request.event;
    if (!event) throw new Error("request has no event");
    event.location = undefined;
    event.startsAt = undefined;
    event.endsAt = undefined;
    expect(violations(validator.validate(CreateEventRequestSchema, request)).sort()).toEqual([
      "event.ends_at: required",
      "event.location: required",
      "event.starts_at: required",
    ]);
  });

  it("rejects a request_id that is not a UUID and a capacity below zero", () => {
    const request = validCreateRequest();
    request.requestId = "retry-1";
    if (request.event) request.event.capacity = -1;
    expect(violations(validator.validate(CreateEventRequestSchema, request)).sort()).toEqual([
      "event.capacity: int32.gte_lte",
      "request_id: string.uuid",
    ]);
  });
});

describe("other request rules", () => {
  it("rejects a negative page size", () => {
    const result = validator.validate(
      ListEventsRequestSchema,
      create(ListEventsRequestSchema, { pageSize: -1 }),
    );
    expect(violations(result)).toEqual(["page_size: int32.gte"]);
  });

  it("checks email format and password length on sign-up", () => {
    const request = create(SignUpRequestSchema, {
      email: "nobody",
      password: "short",
      displayName: "A",
    });
    expect(violations(validator.validate(SignUpRequestSchema, request)).sort()).toEqual([
      "email: string.email",
      "password: string.min_len",
    ]);
  });
});
