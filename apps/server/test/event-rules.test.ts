import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { EventService } from "@grouppe/api";
import { BadRequestSchema, ErrorInfoSchema } from "@grouppe/api/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../src/testing/index.js";
import { eventInput } from "./support/event-input.js";
import { signUp } from "./support/sign-up.js";

let server: TestServer;
let events: ReturnType<typeof createClient<typeof EventService>>;
let ada: { headers: { authorization: string } };

beforeAll(async () => {
  server = await startTestServer();
  const transport = createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" });
  events = createClient(EventService, transport);
  ada = await signUp(transport, "Ada");
});

afterAll(async () => {
  await server?.close();
});

/** The error a call failed with, with its reason and the fields it blames. */
async function failure(call: Promise<unknown>) {
  const error = await call.then(
    () => {
      throw new Error("the call succeeded");
    },
    (e: unknown) => ConnectError.from(e),
  );
  return {
    code: Code[error.code],
    reason: error.findDetails(ErrorInfoSchema)[0]?.reason,
    fields: error
      .findDetails(BadRequestSchema)
      .flatMap((b) => b.fieldViolations.map((v) => v.field)),
  };
}

describe("event rules beyond protovalidate", () => {
  it("refuses a new event in the past and an unknown time zone, naming the field", async () => {
    const past = eventInput();
    past.startsAt = timestampFromDate(new Date(Date.now() - 3_600_000));
    past.endsAt = timestampFromDate(new Date(Date.now() - 1_800_000));
    expect(await failure(events.createEvent({ event: past }, ada))).toEqual({
      code: "InvalidArgument",
      reason: "EVENT_IN_PAST",
      fields: ["event.starts_at"],
    });
    const nowhere = eventInput();
    nowhere.timeZone = "Mars/Olympus_Mons";
    expect(await failure(events.createEvent({ event: nowhere }, ada))).toEqual({
      code: "InvalidArgument",
      reason: "INVALID_TIME_ZONE",
      fields: ["event.time_zone"],
    });
  });

  it("checks the event that results from an update, and its etag", async () => {
    const { event } = await events.createEvent({ event: eventInput({ capacity: 2 }) }, ada);
    if (!event) throw new Error("no event");
    const bob = await signUp(
      createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
      "Bob",
    );
    const cy = await signUp(
      createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
      "Cy",
    );
    await events.joinEvent({ eventId: event.id }, bob);
    await events.joinEvent({ eventId: event.id }, cy);
    const current = (await events.getEvent({ id: event.id })).event;
    expect(
      await failure(
        events.updateEvent(
          {
            event: { id: event.id, capacity: 1, etag: current?.etag },
            updateMask: { paths: ["capacity"] },
          },
          ada,
        ),
      ),
    ).toEqual({
      code: "InvalidArgument",
      reason: "CAPACITY_BELOW_ATTENDANCE",
      fields: ["event.capacity"],
    });
    expect(
      await failure(
        events.updateEvent(
          { event: { id: event.id, endsAt: event.startsAt }, updateMask: { paths: ["ends_at"] } },
          ada,
        ),
      ),
    ).toMatchObject({ code: "InvalidArgument", fields: ["event"] });
    expect(
      await failure(
        events.updateEvent(
          {
            event: { id: event.id, title: "Stale", etag: event.etag },
            updateMask: { paths: ["title"] },
          },
          ada,
        ),
      ),
    ).toMatchObject({ code: "Aborted", reason: "ETAG_MISMATCH" });
    const raised = await events.updateEvent(
      {
        event: { id: event.id, capacity: 5, etag: current?.etag },
        updateMask: { paths: ["capacity"] },
      },
      ada,
    );
    expect(raised.event?.capacity).toBe(5);
  });

  it("pages through events with opaque tokens that only fit their own filters", async () => {
    const tag = `paging${Date.now()}`;
    for (let i = 0; i < 5; i++) {
      await events.createEvent(
        { event: eventInput({ title: `${tag} ${i}`, startsInDays: 10 + i }) },
        ada,
      );
    }
    const seen: string[] = [];
    let pageToken = "";
    for (let page = 0; page < 5; page++) {
      const response = await events.listEvents({ query: tag, pageSize: 2, pageToken });
      seen.push(...response.events.map((e) => e.title));
      pageToken = response.nextPageToken;
      if (pageToken === "") break;
    }
    expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => `${tag} ${i}`));
    const first = await events.listEvents({ query: tag, pageSize: 2 });
    expect(
      await failure(
        events.listEvents({ query: "other", pageSize: 2, pageToken: first.nextPageToken }),
      ),
    ).toEqual({
      code: "InvalidArgument",
      reason: "INVALID_ARGUMENT",
      fields: ["page_token"],
    });
    const clamped = await events.listEvents({ query: tag, pageSize: 100_000 });
    expect(clamped.events.length).toBe(5);
  });
});
