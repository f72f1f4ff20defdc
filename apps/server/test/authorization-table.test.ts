import { randomUUID } from "node:crypto";
import type { DescMethod } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createClient,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { AuthService, CalendarService, EventService } from "@grouppe/api";
import { Health } from "@grouppe/api/health";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../src/testing/index.js";
import {
  createClientCertificate,
  createDevCa,
  createServerCertificate,
} from "../src/tls/dev-certificates.js";
import { eventInput } from "./support/event-input.js";

type CallerName = "anonymous" | "user" | "organizer" | "other user" | "service";
const callerNames: CallerName[] = ["anonymous", "user", "organizer", "other user", "service"];

type Outcome = "OK" | "UNAUTHENTICATED" | "PERMISSION_DENIED";
const OK = "OK";
const NO_AUTH = "UNAUTHENTICATED";
const DENIED = "PERMISSION_DENIED";

/**
 * What each kind of caller must get, written out here rather than derived from the server's
 * access table, so a wrong row there (say, DeleteEvent open to anyone) fails this test.
 * Columns: anonymous, user, organizer, other user (an attendee), service (mTLS).
 */
const expectedOutcomes: Record<string, [Outcome, Outcome, Outcome, Outcome, Outcome]> = {
  "grouppe.v1.EventService/GetEvent": [OK, OK, OK, OK, OK],
  "grouppe.v1.EventService/ListEvents": [OK, OK, OK, OK, OK],
  "grouppe.v1.EventService/ListAttendees": [OK, OK, OK, OK, OK],
  "grouppe.v1.EventService/WatchEvent": [OK, OK, OK, OK, OK],
  "grouppe.v1.EventService/WatchEvents": [OK, OK, OK, OK, OK],
  "grouppe.v1.EventService/CreateEvent": [NO_AUTH, OK, OK, OK, DENIED],
  "grouppe.v1.EventService/JoinEvent": [NO_AUTH, OK, OK, OK, DENIED],
  "grouppe.v1.EventService/LeaveEvent": [NO_AUTH, OK, OK, OK, DENIED],
  "grouppe.v1.EventService/UpdateEvent": [NO_AUTH, DENIED, OK, DENIED, DENIED],
  "grouppe.v1.EventService/CancelEvent": [NO_AUTH, DENIED, OK, DENIED, DENIED],
  "grouppe.v1.EventService/DeleteEvent": [NO_AUTH, DENIED, OK, DENIED, DENIED],
  "grouppe.v1.EventService/ImportEvents": [NO_AUTH, DENIED, DENIED, DENIED, OK],
  "grouppe.v1.AuthService/SignUp": [OK, OK, OK, OK, OK],
  "grouppe.v1.AuthService/LogIn": [OK, OK, OK, OK, OK],
  "grouppe.v1.AuthService/RefreshToken": [OK, OK, OK, OK, OK],
  "grouppe.v1.AuthService/LogOut": [OK, OK, OK, OK, OK],
  "grouppe.v1.AuthService/GetCurrentUser": [NO_AUTH, OK, OK, OK, DENIED],
  "grouppe.v1.CalendarService/GetCalendarFeed": [NO_AUTH, OK, OK, OK, DENIED],
  "grouppe.v1.CalendarService/CreateCalendarFeed": [NO_AUTH, OK, OK, OK, DENIED],
  "grouppe.v1.CalendarService/DeleteCalendarFeed": [NO_AUTH, OK, OK, OK, DENIED],
  "grpc.health.v1.Health/Check": [OK, OK, OK, OK, OK],
  "grpc.health.v1.Health/List": [OK, OK, OK, OK, OK],
  "grpc.health.v1.Health/Watch": [OK, OK, OK, OK, OK],
};

const methodPath = (method: DescMethod) => `${method.parent.typeName}/${method.name}`;

let server: TestServer;
const sessions: Http2SessionManager[] = [];
let organizerId = "";
const transports = {} as Record<CallerName, Transport>;

function bearer(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}

beforeAll(async () => {
  const ca = await createDevCa();
  const otherCa = await createDevCa({ commonName: "someone else" });
  const serverCert = await createServerCertificate(ca);
  const serviceCert = await createClientCertificate(ca, "importer");
  server = await startTestServer(
    { GROUPPE_RATE_LIMIT_AUTH: "10000", GROUPPE_HEARTBEAT_MS: "100" },
    { tls: { cert: serverCert.cert, key: serverCert.key, clientCa: ca.cert } },
  );
  const baseUrl = server.baseUrl;
  const transport = (options: { cert?: string; key?: string; token?: string } = {}) => {
    const nodeOptions = { ca: [ca.cert, otherCa.cert], cert: options.cert, key: options.key };
    const sessionManager = new Http2SessionManager(baseUrl, {}, nodeOptions);
    sessions.push(sessionManager);
    return createGrpcTransport({
      baseUrl,
      sessionManager,
      nodeOptions,
      interceptors: options.token ? [bearer(options.token)] : [],
    });
  };
  const anonymous = transport();
  const auth = createClient(AuthService, anonymous);
  const signUp = async (name: string) => {
    const { session } = await auth.signUp({
      email: `${name}-${randomUUID()}@example.com`,
      password: "correct horse",
      displayName: name,
    });
    if (!session) throw new Error("no session");
    return session;
  };
  const organizer = await signUp("organizer");
  organizerId = organizer.user?.id ?? "";
  transports.anonymous = anonymous;
  transports.organizer = transport({ token: organizer.accessToken });
  transports.user = transport({ token: (await signUp("user")).accessToken });
  transports["other user"] = transport({ token: (await signUp("attendee")).accessToken });
  transports.service = transport({ cert: serviceCert.cert, key: serviceCert.key });
});

afterAll(async () => {
  for (const session of sessions) session.abort();
  await server?.close();
});

/** A fresh event organized by the organizer, which the other user RSVPed to. */
async function freshEvent(): Promise<{ id: string; etag: string }> {
  const { event } = await createClient(EventService, transports.organizer).createEvent({
    event: eventInput(),
  });
  if (!event) throw new Error("no event");
  await createClient(EventService, transports["other user"]).joinEvent({ eventId: event.id });
  return { id: event.id, etag: "" };
}

async function freshRefreshToken(): Promise<string> {
  const { session } = await createClient(AuthService, transports.anonymous).signUp({
    email: `refresh-${randomUUID()}@example.com`,
    password: "correct horse",
    displayName: "Refresh",
  });
  return session?.refreshToken ?? "";
}

/** One valid call per RPC, made with the given transport. */
const calls = new Map<DescMethod, (transport: Transport) => Promise<unknown>>([
  [
    EventService.method.getEvent,
    async (t) => createClient(EventService, t).getEvent({ id: (await freshEvent()).id }),
  ],
  [EventService.method.listEvents, (t) => createClient(EventService, t).listEvents({})],
  [
    EventService.method.listAttendees,
    async (t) => createClient(EventService, t).listAttendees({ eventId: (await freshEvent()).id }),
  ],
  [
    EventService.method.watchEvent,
    async (t) => {
      const { id } = await freshEvent();
      for await (const message of createClient(EventService, t).watchEvent({ id })) return message;
    },
  ],
  [
    EventService.method.watchEvents,
    async (t) => {
      for await (const message of createClient(EventService, t).watchEvents({})) return message;
    },
  ],
  [
    EventService.method.createEvent,
    (t) => createClient(EventService, t).createEvent({ event: eventInput() }),
  ],
  [
    EventService.method.joinEvent,
    async (t) => createClient(EventService, t).joinEvent({ eventId: (await freshEvent()).id }),
  ],
  [
    EventService.method.leaveEvent,
    async (t) => createClient(EventService, t).leaveEvent({ eventId: (await freshEvent()).id }),
  ],
  [
    EventService.method.updateEvent,
    async (t) =>
      createClient(EventService, t).updateEvent({
        event: { id: (await freshEvent()).id, title: "Renamed" },
        updateMask: { paths: ["title"] },
      }),
  ],
  [
    EventService.method.cancelEvent,
    async (t) =>
      createClient(EventService, t).cancelEvent({ id: (await freshEvent()).id, reason: "weather" }),
  ],
  [
    EventService.method.deleteEvent,
    async (t) => createClient(EventService, t).deleteEvent({ id: (await freshEvent()).id }),
  ],
  [
    EventService.method.importEvents,
    async (t) => {
      const result = await createClient(EventService, t).importEvents(
        (async function* () {
          yield { key: randomUUID(), organizerId, event: eventInput() };
        })(),
      );
      expect(result.createdCount).toBe(1);
      return result;
    },
  ],
  [
    AuthService.method.signUp,
    (t) =>
      createClient(AuthService, t).signUp({
        email: `new-${randomUUID()}@example.com`,
        password: "correct horse",
        displayName: "New",
      }),
  ],
  [
    AuthService.method.logIn,
    async (t) => {
      const email = `login-${randomUUID()}@example.com`;
      await createClient(AuthService, transports.anonymous).signUp({
        email,
        password: "correct horse",
        displayName: "Login",
      });
      return createClient(AuthService, t).logIn({ email, password: "correct horse" });
    },
  ],
  [
    AuthService.method.refreshToken,
    async (t) =>
      createClient(AuthService, t).refreshToken({ refreshToken: await freshRefreshToken() }),
  ],
  [
    AuthService.method.logOut,
    async (t) => createClient(AuthService, t).logOut({ refreshToken: await freshRefreshToken() }),
  ],
  [AuthService.method.getCurrentUser, (t) => createClient(AuthService, t).getCurrentUser({})],
  [
    CalendarService.method.getCalendarFeed,
    (t) => createClient(CalendarService, t).getCalendarFeed({}),
  ],
  [
    CalendarService.method.createCalendarFeed,
    (t) => createClient(CalendarService, t).createCalendarFeed({}),
  ],
  [
    CalendarService.method.deleteCalendarFeed,
    (t) => createClient(CalendarService, t).deleteCalendarFeed({}),
  ],
  [Health.method.check, (t) => createClient(Health, t).check({})],
  [Health.method.list, (t) => createClient(Health, t).list({})],
  [
    Health.method.watch,
    async (t) => {
      for await (const message of createClient(Health, t).watch({})) return message;
    },
  ],
]);

describe("the authorization table", () => {
  it("states an outcome for every method of every grouppe service, and a call for each", () => {
    const methods = [
      ...EventService.methods,
      ...AuthService.methods,
      ...CalendarService.methods,
      ...Health.methods,
    ];
    expect(methods.map(methodPath).sort()).toEqual(Object.keys(expectedOutcomes).sort());
    expect([...calls.keys()].map(methodPath).sort()).toEqual(Object.keys(expectedOutcomes).sort());
  });

  it("gives every kind of caller the stated outcome, for every RPC", async () => {
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const [method, call] of calls) {
      const wanted = expectedOutcomes[methodPath(method)] ?? [];
      for (const [index, caller] of callerNames.entries()) {
        const outcome = await call(transports[caller]).then(
          () => OK,
          (error: unknown) => Code[ConnectError.from(error).code],
        );
        const label = `${method.name} as ${caller}`;
        outcomes.push(`${label}: ${outcome === OK ? OK : toUpperSnake(String(outcome))}`);
        expected.push(`${label}: ${wanted[index]}`);
      }
    }
    expect(outcomes).toEqual(expected);
  });
});

/** Code[...] gives "PermissionDenied"; the wire and the table above say PERMISSION_DENIED. */
function toUpperSnake(name: string): string {
  return name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}
