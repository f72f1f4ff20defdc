/**
 * Child process of the fan-out scenario: changes one event's attendance as fast as
 * `concurrency` writers can, each cycling its own users through JoinEvent and LeaveEvent,
 * and records every write's resulting etag with its send and answer times.
 */
import { ConnectError, createClient } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { EventService } from "@grouppe/api";
import { reportReady, serveParent } from "../child-process.js";
import { epochMillis } from "./epoch-clock.js";
import type { WriteCommand, WriteRecord } from "./fanout-messages.js";

serveParent<WriteCommand>("write", "written", async (command) => {
  const events = createClient(EventService, createGrpcTransport({ baseUrl: command.url }));
  const writes: WriteRecord[] = [];
  const errors: Record<string, number> = {};
  const started = performance.now();
  const deadline = started + command.durationSeconds * 1_000;
  const writer = async (slot: number) => {
    const tokens = command.accessTokens.filter((_, index) => index % command.concurrency === slot);
    for (let round = 0; performance.now() < deadline; round++) {
      const joining = round % 2 === 0;
      for (const token of tokens) {
        if (performance.now() >= deadline) return;
        const options = { headers: { authorization: `Bearer ${token}` } };
        const sentAt = epochMillis();
        try {
          const { event } = joining
            ? await events.joinEvent({ eventId: command.eventId }, options)
            : await events.leaveEvent({ eventId: command.eventId }, options);
          writes.push([event?.etag ?? "", sentAt, epochMillis()]);
        } catch (error) {
          const code = codeToString(ConnectError.from(error).code);
          errors[code] = (errors[code] ?? 0) + 1;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: command.concurrency }, (_, slot) => writer(slot)));
  return { writes, errors, seconds: (performance.now() - started) / 1_000 };
});
reportReady();
