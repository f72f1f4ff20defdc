/**
 * Child process of the fan-out scenario: holds many WatchEvent streams (gRPC over h2c, spread
 * over several sessions) and timestamps every Attendance message on arrival.
 */
import type http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { WatchEventRequestSchema, WatchEventResponseSchema } from "@grouppe/api";
import { reportReady, serveParent } from "../child-process.js";
import { EnvelopeReader, encodeEnvelope } from "../load/grpc-envelope.js";
import { LatencyRecorder } from "../load/latency-recorder.js";
import { connectH2c } from "../load/node-h2-load.js";
import { classifyResponse } from "../load/rpc-protocol.js";
import { epochMillis } from "./epoch-clock.js";
import type { FinishCommand, WatchCommand } from "./fanout-messages.js";

const sessions: http2.ClientHttp2Session[] = [];
const arrivalEtags: string[] = [];
const arrivalTimes: number[] = [];
const perWatcher: number[] = [];
const streamErrors: Record<string, number> = {};
let finishing = false;

function count(into: Record<string, number>, code: string): void {
  into[code] = (into[code] ?? 0) + 1;
}

function openWatcher(
  session: http2.ClientHttp2Session,
  index: number,
  body: Uint8Array,
): Promise<string> {
  return new Promise((resolve) => {
    const stream = session.request({
      ":method": "POST",
      ":path": "/grouppe.v1.EventService/WatchEvent",
      "content-type": "application/grpc",
      te: "trailers",
    });
    const reader = new EnvelopeReader();
    let status = 0;
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    perWatcher[index] = 0;
    stream.on("response", (received) => {
      headers = received;
      status = Number(received[":status"]);
    });
    stream.on("trailers", (received) => {
      trailers = received;
    });
    stream.on("data", (chunk: Buffer) => {
      const arrivedAt = epochMillis();
      for (const envelope of reader.push(chunk)) {
        const { change } = fromBinary(WatchEventResponseSchema, envelope.payload);
        if (change.case === "snapshot") resolve("ok");
        else if (change.case === "attendance") {
          arrivalEtags.push(change.value.etag);
          arrivalTimes.push(arrivedAt);
          perWatcher[index] = (perWatcher[index] ?? 0) + 1;
        }
      }
    });
    stream.on("error", () => {});
    stream.on("close", () => {
      const outcome =
        status === 0
          ? `stream_reset_${stream.rstCode}`
          : classifyResponse("grpc", status, headers, trailers, Buffer.alloc(0));
      resolve(outcome === "ok" ? "ended_before_snapshot" : outcome);
      if (!finishing) count(streamErrors, outcome === "ok" ? "ended_early" : outcome);
    });
    stream.end(body);
  });
}

serveParent<WatchCommand>("watch", "watching", async (command) => {
  for (let index = 0; index < command.sessions; index++)
    sessions.push(await connectH2c(command.url));
  const body = encodeEnvelope(
    toBinary(WatchEventRequestSchema, create(WatchEventRequestSchema, { id: command.eventId })),
  );
  const outcomes = await Promise.all(
    Array.from({ length: command.watchers }, (_, index) => {
      const session = sessions[index % sessions.length];
      if (!session) throw new Error("no session");
      return openWatcher(session, index, body);
    }),
  );
  const failed: Record<string, number> = {};
  for (const outcome of outcomes) if (outcome !== "ok") count(failed, outcome);
  return { watching: outcomes.filter((outcome) => outcome === "ok").length, failed };
});

serveParent<FinishCommand>("finish", "finished", async ({ writes }) => {
  finishing = true;
  for (const session of sessions) session.destroy();
  const writesByEtag = new Map(
    writes.map(([etag, sentAt, answeredAt]) => [etag, { sentAt, answeredAt }]),
  );
  const fromSend = new LatencyRecorder();
  const fromAck = new LatencyRecorder();
  let unmatched = 0;
  for (let index = 0; index < arrivalEtags.length; index++) {
    const write = writesByEtag.get(arrivalEtags[index] ?? "");
    const arrivedAt = arrivalTimes[index] ?? 0;
    if (!write) {
      unmatched++;
      continue;
    }
    fromSend.recordMicros((arrivedAt - write.sentAt) * 1_000);
    fromAck.recordMicros(Math.max(0, arrivedAt - write.answeredAt) * 1_000);
  }
  const firstSend = Math.min(...writes.map(([, sentAt]) => sentAt));
  const lastArrival = arrivalTimes.reduce((latest, time) => Math.max(latest, time), firstSend);
  return {
    messages: arrivalEtags.length,
    unmatched,
    seconds: (lastArrival - firstSend) / 1_000,
    perWatcher: { min: Math.min(...perWatcher), max: Math.max(...perWatcher) },
    latencyFromSendUs: fromSend.summary(),
    latencyFromAckUs: fromAck.summary(),
    streamErrors,
  };
});
reportReady();
