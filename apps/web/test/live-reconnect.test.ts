import { rm } from "node:fs/promises";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { WatchEventResponse } from "@grouppe/api";
import { CreateEventRequestSchema } from "@grouppe/api";
import { createTestDataDir, startTestServer, type TestServer } from "@grouppe/server/testing";
import { eventually } from "@grouppe/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { createApiClients } from "../src/lib/api/api-clients.js";
import { followStream, type StreamStatus } from "../src/lib/api/follow-stream.js";
import { createSession, storedSessionFrom } from "../src/lib/api/session.svelte.js";
import type { TransportKind } from "../src/lib/api/transport-kind.js";
import { quietServer } from "./support/quiet-server.js";
import { defaultBuildDir } from "./support/web-build.js";

const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe.each<TransportKind>(["connect", "grpc-web"])("WatchEvent over %s", (transport) => {
  it("reconnects with backoff when the server restarts, and keeps delivering changes", async () => {
    const dataDir = await createTestDataDir("grouppe-web-reconnect-");
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    let server: TestServer = await startTestServer(
      { ...quietServer, GROUPPE_WEB_DIR: defaultBuildDir },
      { dataDir },
    );
    cleanups.push(() => server.close());
    const port = server.port;

    const session = createSession(undefined);
    const api = createApiClients({ baseUrl: server.baseUrl, transportKind: transport, session });
    const signedUp = await api.auth.signUp({
      displayName: `Rita ${transport}`,
      email: `rita.${transport}.${Date.now()}@example.com`,
      password: "correct horse battery",
    });
    session.set(storedSessionFrom(signedUp.session));
    const start = new Date(Date.now() + 86_400_000);
    const { event } = await api.events.createEvent(
      create(CreateEventRequestSchema, {
        event: {
          title: "Restart-proof picnic",
          timeZone: "UTC",
          startsAt: timestampFromDate(start),
          endsAt: timestampFromDate(new Date(start.getTime() + 3_600_000)),
          location: { kind: { case: "address", value: "The park" } },
        },
      }),
    );
    const id = event?.id ?? "";

    const statuses: StreamStatus[] = [];
    const changes: WatchEventResponse["change"]["case"][] = [];
    let attendees = -1;
    const stop = new AbortController();
    const following = followStream<WatchEventResponse>({
      signal: stop.signal,
      backoff: { initialMs: 100, maxMs: 1_000 },
      open: ({ signal, onHeader }) => api.events.watchEvent({ id }, { signal, onHeader }),
      onStatus: (status) => statuses.push(status),
      onMessage: ({ change }) => {
        changes.push(change.case);
        if (change.case === "snapshot") attendees = change.value.attendeeCount;
        if (change.case === "attendance") attendees = change.value.attendeeCount;
      },
    });
    await eventually(() => changes.includes("snapshot"), { what: "the first snapshot" });

    // The server goes away: its streams end with UNAVAILABLE and the follower starts retrying.
    await server.close();
    await eventually(() => statuses.includes("reconnecting"), { what: "reconnecting" });
    const snapshotsBefore = changes.filter((c) => c === "snapshot").length;
    server = await startTestServer(
      { ...quietServer, GROUPPE_WEB_DIR: defaultBuildDir },
      { dataDir, port },
    );
    await eventually(() => changes.filter((c) => c === "snapshot").length > snapshotsBefore, {
      what: "a snapshot from the restarted server",
    });
    expect(statuses.at(-1)).toBe("live");

    // Changes after the restart reach the same follower.
    await api.events.joinEvent({ eventId: id });
    await eventually(() => attendees === 1, { what: "the attendance change" });

    stop.abort();
    await following;
    expect(statuses.at(-1)).toBe("stopped");
  });
});
