import { randomUUID } from "node:crypto";
import { createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AuthService, EventService, RsvpStatus } from "@grouppe/api";
import { createTestDatabase, postgresAvailable } from "@grouppe/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../src/testing/index.js";
import { eventInput } from "./support/event-input.js";

async function signUpMany(transport: Transport, count: number): Promise<string[]> {
  const auth = createClient(AuthService, transport);
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const { session } = await auth.signUp({
        email: `u${i}-${randomUUID()}@example.com`,
        password: "correct horse",
        displayName: `U${i}`,
      });
      return session?.accessToken ?? "";
    }),
  );
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

/** The two acceptance scenarios, against whatever servers share one database. */
async function scenarios(transports: Transport[]) {
  const pick = (i: number) => transports[i % transports.length] as Transport;
  const [organizer, ...attendees] = await signUpMany(pick(0), 51);
  const events = transports.map((t) => createClient(EventService, t));
  const { event } = await (events[0] ?? createClient(EventService, pick(0))).createEvent(
    { event: eventInput({ capacity: 10 }) },
    bearer(organizer ?? ""),
  );
  if (!event) throw new Error("no event");

  const joins = await Promise.all(
    attendees.map((token, i) =>
      createClient(EventService, pick(i)).joinEvent({ eventId: event.id }, bearer(token)),
    ),
  );
  expect(joins.filter((j) => j.attendee?.status === RsvpStatus.ATTENDING).length).toBe(10);
  expect(joins.filter((j) => j.attendee?.status === RsvpStatus.WAITLISTED).length).toBe(40);
  const positions = joins
    .map((j) => j.attendee?.waitlistPosition ?? 0)
    .filter((p) => p > 0)
    .sort((a, b) => a - b);
  expect(positions).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  const after = (await createClient(EventService, pick(1)).getEvent({ id: event.id })).event;
  expect([after?.attendeeCount, after?.waitlistCount]).toEqual([10, 40]);

  const requestId = randomUUID();
  const creates = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      createClient(EventService, pick(i)).createEvent(
        { event: eventInput({ title: "Retried" }), requestId },
        bearer(organizer ?? ""),
      ),
    ),
  );
  expect(new Set(creates.map((c) => c.event?.id)).size).toBe(1);
  const listed = await createClient(EventService, pick(0)).listEvents({ query: "Retried" });
  expect(listed.events.length).toBe(1);
}

describe("concurrent RSVPs and retried creates", () => {
  describe("one server on the embedded database", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ GROUPPE_RATE_LIMIT_AUTH: "10000" });
    });
    afterAll(async () => {
      await server?.close();
    });
    it("never overbooks and creates once", async () => {
      await scenarios([createGrpcTransport({ baseUrl: server.baseUrl })]);
    });
  });

  describe("two servers on one PostgreSQL", async () => {
    const available = await postgresAvailable();
    if ("skip" in available) console.info(`skipped: ${available.skip}`);
    const servers: TestServer[] = [];
    let drop: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      if ("skip" in available) return;
      const database = await createTestDatabase();
      drop = database.drop;
      for (let i = 0; i < 2; i++) {
        servers.push(
          await startTestServer({ DATABASE_URL: database.url, GROUPPE_RATE_LIMIT_AUTH: "10000" }),
        );
      }
    });
    afterAll(async () => {
      for (const server of servers) await server.close();
      await drop?.();
    });
    it.skipIf("skip" in available)(
      "never overbooks and creates once across processes",
      async () => {
        await scenarios(servers.map((s) => createGrpcTransport({ baseUrl: s.baseUrl })));
      },
    );
  });
});
