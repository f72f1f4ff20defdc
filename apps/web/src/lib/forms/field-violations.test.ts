import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createValidator, violationsToProto } from "@bufbuild/protovalidate";
import { Code, ConnectError } from "@connectrpc/connect";
import { CreateEventRequestSchema, SignUpRequestSchema } from "@grouppe/api";
import { BadRequestSchema, ErrorInfoSchema } from "@grouppe/api/rpc";
import { describe, expect, it } from "vitest";
import { checkMessage } from "./check-message.js";
import { eventFormFields } from "./event-draft.js";
import {
  fieldForViolation,
  formErrors,
  formErrorsFromCall,
  violationsFromError,
  violationsFromValidation,
} from "./field-violations.js";

const start = new Date("2031-05-01T18:00:00Z");
const end = new Date("2031-05-01T20:00:00Z");

function invalidCreateRequest() {
  return create(CreateEventRequestSchema, {
    event: {
      title: "",
      timeZone: "Europe/Berlin",
      startsAt: timestampFromDate(end),
      endsAt: timestampFromDate(start),
      location: { kind: { case: "onlineUrl", value: "ftp://files.example.com" } },
      capacity: -3,
    },
  });
}

describe("browser-side violations", () => {
  it("puts every CreateEvent rule next to its field", () => {
    const errors = checkMessage(CreateEventRequestSchema, invalidCreateRequest(), eventFormFields);
    expect(errors.fields).toEqual({
      title: "Give your event a title.",
      ends_at: "The event has to end after it starts.",
      "location.online_url": "The web address has to start with https:// or http://.",
      capacity: "Seats must be between 0 (no limit) and 100,000.",
    });
    expect(errors.general).toEqual([]);
  });

  it("maps a missing oneof to the location choice and a missing time to its field", () => {
    const request = create(CreateEventRequestSchema, {
      event: { title: "Picnic", timeZone: "UTC", location: {} },
    });
    const errors = checkMessage(CreateEventRequestSchema, request, eventFormFields);
    expect(errors.fields.location).toBe("Choose a venue or an online meeting.");
    expect(errors.fields.starts_at).toBe("Choose when the event starts.");
    expect(errors.fields.ends_at).toBe("Choose when the event ends.");
  });

  it("checks sign-up fields", () => {
    const request = create(SignUpRequestSchema, { email: "not-an-address", password: "short" });
    const errors = checkMessage(SignUpRequestSchema, request, {
      fields: ["email", "password", "display_name"],
    });
    expect(errors.fields).toEqual({
      email: "Enter an email address like name@example.com.",
      password: "Use at least 8 characters.",
      display_name: "Tell people what to call you.",
    });
  });

  it("passes a valid request", () => {
    const request = create(CreateEventRequestSchema, {
      event: {
        title: "Picnic",
        timeZone: "America/Argentina/Buenos_Aires",
        startsAt: timestampFromDate(start),
        endsAt: timestampFromDate(end),
        location: { kind: { case: "address", value: "Parque Centenario" } },
      },
    });
    const errors = checkMessage(CreateEventRequestSchema, request, eventFormFields);
    expect(errors).toEqual({ fields: {}, general: [] });
  });
});

describe("server-side violations", () => {
  it("reads BadRequest and buf.validate.Violations without doubling them", () => {
    const result = createValidator().validate(CreateEventRequestSchema, invalidCreateRequest());
    if (result.kind !== "invalid") throw new Error("expected violations");
    const [violations, violationsSchema] = violationsToProto(result.violations);
    const error = new ConnectError("invalid", Code.InvalidArgument, undefined, [
      { desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason: "INVALID_ARGUMENT" }) },
      {
        desc: BadRequestSchema,
        value: create(BadRequestSchema, {
          fieldViolations: violationsFromValidation(result.violations).map((v) => ({
            field: v.path,
            description: v.message,
            reason: v.ruleId,
          })),
        }),
      },
      { desc: violationsSchema, value: violations },
    ]);
    const found = violationsFromError(error);
    expect(found.map((v) => v.path).sort()).toEqual([
      "event",
      "event.capacity",
      "event.location.online_url",
      "event.title",
    ]);
    expect(formErrorsFromCall(error, eventFormFields).fields.ends_at).toBe(
      "The event has to end after it starts.",
    );
  });

  it("shows a domain violation named in ErrorInfo metadata next to its field", () => {
    const error = new ConnectError("capacity below attendance", Code.InvalidArgument, undefined, [
      {
        desc: ErrorInfoSchema,
        value: create(ErrorInfoSchema, {
          reason: "CAPACITY_BELOW_ATTENDANCE",
          metadata: { field: "event.capacity" },
        }),
      },
    ]);
    expect(formErrorsFromCall(error, eventFormFields).fields.capacity).toMatch(
      /already hold a seat/,
    );
  });

  it("shows a taken email address next to the email field", () => {
    const error = new ConnectError("taken", Code.AlreadyExists, undefined, [
      {
        desc: ErrorInfoSchema,
        value: create(ErrorInfoSchema, { reason: "EMAIL_TAKEN", metadata: { field: "email" } }),
      },
    ]);
    const errors = formErrorsFromCall(error, { fields: ["display_name", "email", "password"] });
    expect(errors.fields.email).toBe(
      "An account with this email address already exists. Try logging in instead.",
    );
    expect(errors.general).toEqual([]);
  });

  it("puts a failure without field violations on top of the form, in words", () => {
    const errors = formErrorsFromCall(new ConnectError("down", Code.Unavailable), eventFormFields);
    expect(errors.fields).toEqual({});
    expect(errors.general).toEqual([
      "We can't reach grouppe right now. Check your connection and try again.",
    ]);
  });
});

describe("fieldForViolation", () => {
  it("walks up to the nearest field the form shows", () => {
    const map = { prefixes: ["event."], fields: ["location", "title"] };
    expect(
      fieldForViolation({ path: "event.location.address", ruleId: "x", message: "" }, map),
    ).toBe("location");
    expect(
      fieldForViolation({ path: "event.organizer", ruleId: "x", message: "" }, map),
    ).toBeUndefined();
  });

  it("keeps violations no field shows as general sentences, once each", () => {
    const errors = formErrors(
      [
        { path: "request_id", ruleId: "string.uuid", message: "must be a valid UUID" },
        { path: "request_id", ruleId: "string.uuid", message: "must be a valid UUID" },
      ],
      eventFormFields,
    );
    expect(errors.general).toEqual(["Must be a valid UUID."]);
  });
});
