/**
 * The hardening battery's crash case: the server as a process (dist/main.js), a write answered
 * OK, then SIGKILL at once: no shutdown, no flush. Started again on the same data, the write
 * is there. On the embedded database (same data directory) and on PostgreSQL (same database).
 */

import { rm } from "node:fs/promises";
import { createTestDatabase, postgresAvailable } from "@grouppe/testkit";
import { afterAll, describe, expect, it } from "vitest";
import {
  createTestDataDir,
  type ServerProcess,
  startServerProcess,
} from "../../src/testing/index.js";
import { eventInputJson } from "../support/event-input.js";
import { expectHealthyProcess, processResources } from "./process-checks.js";
import { connectJson } from "./wire.js";

const available = await postgresAvailable();
const skip = "skip" in available ? available.skip : undefined;

const started: ServerProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const server of started) await server.stop(1_000).catch(() => undefined);
  for (const cleanup of cleanups) await cleanup().catch(() => undefined);
});

function call(server: ServerProcess, path: string, body: unknown, token = "") {
  return connectJson(server.url, path, body, token);
}

async function start(env: Record<string, string>, dataDir: string): Promise<ServerProcess> {
  const server = await startServerProcess({ GROUPPE_ADMIN_PORT: "0", ...env }, { dataDir });
  started.push(server);
  return server;
}

/**
 * Signs up, creates an event and joins it, and kills the server the moment the last write is
 * answered OK; started again, all three writes are there. (One kill: each start costs
 * seconds, and the writes before the last were acknowledged just as well.)
 */
async function killAfterEveryWrite(env: Record<string, string>, dataDir: string) {
  let server = await start(env, dataDir);
  const restart = async () => {
    server.child.kill("SIGKILL");
    const { signal } = await server.exited;
    expect(signal).toBe("SIGKILL");
    server = await start(env, dataDir);
  };

  const signUp = await call(server, "/grouppe.v1.AuthService/SignUp", {
    email: "ada@example.com",
    password: "correct horse",
    displayName: "Ada",
  });
  expect(signUp.status).toBe(200);
  const token = (signUp.json as { session: { accessToken: string } }).session.accessToken;

  const created = await call(
    server,
    "/grouppe.v1.EventService/CreateEvent",
    {
      event: eventInputJson({ capacity: 10 }),
    },
    token,
  );
  expect(created.status).toBe(200);
  const eventId = (created.json as { event: { id: string } }).event.id;
  const joined = await call(server, "/grouppe.v1.EventService/JoinEvent", { eventId }, token);
  expect(joined.status).toBe(200);
  await restart();

  const logIn = await call(server, "/grouppe.v1.AuthService/LogIn", {
    email: "ada@example.com",
    password: "correct horse",
  });
  expect(logIn.status, "the user signed up before the kill").toBe(200);
  const read = await call(server, "/grouppe.v1.EventService/GetEvent", { id: eventId }, token);
  expect(read.status, "the event created before a kill").toBe(200);
  const shown = (read.json as { event: { title: string; attendeeCount?: number } }).event;
  expect(shown.title).toBe("Svelte meetup");
  expect(shown.attendeeCount, "the RSVP made before a kill").toBe(1);
  // The restarted process is as healthy as any: canary, no error logged, resources settle.
  await expectHealthyProcess(server, await processResources(server), "the restarted server", {
    expectedEventIds: [eventId],
  });
}

describe("SIGKILL right after an OK", () => {
  it("keeps every acknowledged write on the embedded database", async () => {
    const dataDir = await createTestDataDir("grouppe-kill-");
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    await killAfterEveryWrite({}, dataDir);
  }, 120_000);

  it.skipIf(skip)(
    "keeps every acknowledged write on PostgreSQL",
    async () => {
      const database = await createTestDatabase();
      cleanups.push(() => database.drop());
      const dataDir = await createTestDataDir("grouppe-kill-pg-");
      cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
      await killAfterEveryWrite({ DATABASE_URL: database.url }, dataDir);
    },
    120_000,
  );
});
