/**
 * The hardening battery's stream case, against the server as a process of its own (so client
 * and server do not share one event loop, and /proc shows the server's descriptors alone):
 * 10,000 WatchEvent streams over 100 HTTP/2 connections, each cancelled by the client after
 * its third message. Afterwards the server holds no stream, no subscription and no socket
 * more than before.
 */
import http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { WatchEventRequestSchema, WatchEventResponseSchema } from "@grouppe/api";
import { eventually } from "@grouppe/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ServerProcess, startServerProcess } from "../../src/testing/index.js";
import { eventInputJson } from "../support/event-input.js";
import {
  adminUrlOf,
  expectHealthyProcess,
  freePort,
  inspectorEnv,
  metric,
  processResources,
} from "./process-checks.js";
import type { Resources } from "./resources.js";
import { connectJson, envelope } from "./wire.js";

const watchStreams = 10_000;
/** 100 streams per connection: the server's default concurrent-stream limit. */
const watchSessions = 100;
/**
 * A bound on a hang, not a speed test: alone on 2 cores the case takes 10-20 s, but on a
 * machine shared with other work the server process may get a fraction of a core.
 */
const hangBoundMs = 120_000;

let server: ServerProcess;
let adminUrl = "";
let token = "";
let eventId = "";
let baseline: Resources;
let inspectorPort = 0;

async function call(path: string, body: unknown, auth = true) {
  const answer = await connectJson(server.url, path, body, auth ? token : "");
  expect(answer.status, answer.text).toBe(200);
  return answer.json as unknown;
}

beforeAll(async () => {
  inspectorPort = await freePort();
  server = await startServerProcess({
    ...inspectorEnv(inspectorPort),
    GROUPPE_ADMIN_PORT: "0",
    // One client (one IP) holds every stream.
    GROUPPE_MAX_WATCHERS_PER_USER: String(watchStreams),
  });
  adminUrl = adminUrlOf(server);
  const signUp = await call(
    "/grouppe.v1.AuthService/SignUp",
    { email: "ada@example.com", password: "correct horse", displayName: "Ada" },
    false,
  );
  token = (signUp as { session: { accessToken: string } }).session.accessToken;
  const created = await call("/grouppe.v1.EventService/CreateEvent", {
    event: eventInputJson({ capacity: 10 }),
  });
  eventId = (created as { event: { id: string } }).event.id;
  baseline = await processResources(server, inspectorPort);
}, 120_000);

afterEach(async ({ task }) => {
  await expectHealthyProcess(server, baseline, `resources after "${task.name}"`, {
    inspectorPort,
    expectedEventIds: [eventId],
  });
});

afterAll(async () => {
  await server?.stop();
});

/** Renames the watched event: every watcher gets one "updated" message. */
function rename(title: string) {
  return call("/grouppe.v1.EventService/UpdateEvent", {
    event: { id: eventId, title },
    updateMask: "title",
  });
}

describe("many streams", () => {
  it(
    `gives back every subscription of ${watchStreams} WatchEvent streams cancelled after their third message`,
    async () => {
      const request = envelope(
        toBinary(WatchEventRequestSchema, create(WatchEventRequestSchema, { id: eventId })),
      );
      /** Messages other than heartbeats each stream has received; it is cancelled once it has three. */
      const received = new Uint32Array(watchStreams);
      const ended: string[] = [];
      const sessions = await Promise.all(
        Array.from({ length: watchSessions }, async () => {
          const session = http2.connect(server.url);
          session.on("error", () => undefined);
          // The server's SETTINGS: it has taken the connection as HTTP/2, streams can go.
          await new Promise<void>((resolve) => session.once("remoteSettings", () => resolve()));
          return session;
        }),
      );
      const watch = (index: number) => {
        const session = sessions[index % watchSessions] as http2.ClientHttp2Session;
        const stream = session.request({
          ":method": "POST",
          ":path": "/grouppe.v1.EventService/WatchEvent",
          "content-type": "application/grpc",
          te: "trailers",
        });
        let pending: Buffer = Buffer.alloc(0);
        let status = "no status";
        const readStatus = (headers: http2.IncomingHttpHeaders) => {
          if (headers["grpc-status"] !== undefined) {
            status = `grpc-status ${headers["grpc-status"]} ${headers["grpc-message"] ?? ""}`;
          }
        };
        stream.on("response", readStatus);
        stream.on("trailers", readStatus);
        return new Promise<void>((resolve) => {
          stream.on("data", (chunk: Buffer) => {
            pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
            while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
              const end = 5 + pending.readUInt32BE(1);
              const message = fromBinary(WatchEventResponseSchema, pending.subarray(5, end));
              pending = pending.subarray(end);
              // Heartbeats are not counted: on a loaded machine two of them (one per 15 s) once
              // arrived before the first update, and every stream was cancelled too early.
              if (message.change.case !== "heartbeat") received[index] = (received[index] ?? 0) + 1;
            }
            if ((received[index] ?? 0) >= 3) stream.close(http2.constants.NGHTTP2_CANCEL);
          });
          stream.on("error", () => undefined);
          stream.on("close", () => {
            if ((received[index] ?? 0) < 3) {
              ended.push(
                `stream ${index} ended after ${received[index]} messages (${status}, RST ${stream.rstCode})`,
              );
            }
            resolve();
          });
          stream.end(request);
        });
      };
      const atLeast = (count: number) => received.every((n) => n >= count);
      try {
        const done: Promise<void>[] = [];
        for (let index = 0; index < watchStreams; index++) {
          done.push(watch(index));
          // A connection's worth at a time, letting the loop turn as real clients would.
          if (index % watchSessions === watchSessions - 1) await new Promise(setImmediate);
        }
        const opened = () => `${received.filter((n) => n >= 1).length} of ${watchStreams} have one`;
        await eventually(() => atLeast(1) || ended.length > 0, {
          what: "every snapshot",
          timeoutMs: hangBoundMs,
        }).catch((error: Error) => {
          throw new Error(`${error.message}; ${opened()}`);
        });
        // Counted before each snapshot is sent, so every stream is counted by now; one the
        // server ended meanwhile shows in `ended`, with its status, rather than as a number.
        const openOnServer = () =>
          metric(adminUrl, "grpc_server_open_streams", 'method="WatchEvent"');
        let lastCount = 0;
        await eventually(
          async () => {
            if (ended.length > 0) return true;
            lastCount = await openOnServer();
            return lastCount === watchStreams;
          },
          {
            what: "every stream counted open on the server",
            timeoutMs: hangBoundMs,
            intervalMs: 200,
          },
        ).catch((error: Error) => {
          throw new Error(`${error.message}; last count ${lastCount}`);
        });
        expect(ended.slice(0, 5)).toEqual([]);
        expect(await openOnServer()).toBe(watchStreams);
        await rename("Svelte meetup, renamed");
        await eventually(() => atLeast(2) || ended.length > 0, {
          what: "every first update",
          timeoutMs: hangBoundMs,
        });
        await rename("Svelte meetup");
        await Promise.all(done);
        expect(ended.slice(0, 5)).toEqual([]);
        // The server learns of each cancel from its RST_STREAM; then nothing of it is left.
        await eventually(async () => (await openOnServer()) === 0, {
          what: "no WatchEvent stream open on the server",
          timeoutMs: hangBoundMs,
          intervalMs: 200,
        });
        expect(await metric(adminUrl, "grpc_server_in_flight", 'method="WatchEvent"')).toBe(0);
      } finally {
        for (const session of sessions) session.destroy();
      }
    },
    4 * hangBoundMs,
  );
});
