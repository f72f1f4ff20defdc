import { setTimeout as sleep } from "node:timers/promises";
import { toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type WatchEventResponse,
  WatchEventResponseSchema,
  type WatchEventsResponse,
  WatchEventsResponseSchema,
} from "@grouppe/api";
import type { Command } from "commander";
import type { CommandContext } from "../command-context.js";
import { formatSeats } from "../format.js";
import type { Action } from "./action.js";

/** How long to wait before following again after the server went away. */
const reconnectDelayMs = 1_000;

const clock = new Intl.DateTimeFormat("sv-SE", { timeStyle: "medium" });

function stamp(): string {
  return clock.format(new Date());
}

/** One line for a change of one event; undefined for heartbeats. */
function describeEventChange(change: WatchEventResponse["change"]): string | undefined {
  switch (change.case) {
    case "snapshot":
      return `now      ${change.value.title}: seats ${formatSeats(change.value)}`;
    case "updated":
      return `updated  ${change.value.title}: seats ${formatSeats(change.value)}`;
    case "attendance": {
      const { attendeeCount, waitlistCount } = change.value;
      return `rsvp     ${attendeeCount} attending, ${waitlistCount} on the waitlist`;
    }
    case "cancelled":
      return `cancelled${change.value.cancelReason ? `: ${change.value.cancelReason}` : ""}`;
    case "deleted":
      return "deleted";
    default:
      return undefined;
  }
}

/** One line for a change in the feed of all events; undefined for heartbeats. */
function describeFeedChange(change: WatchEventsResponse["change"]): string | undefined {
  switch (change.case) {
    case "created":
    case "updated":
    case "cancelled":
      return `${change.case.padEnd(9)} ${change.value.id}  ${change.value.title}`;
    case "deleted":
      return `deleted   ${change.value.eventId}`;
    case "resync":
      return "resync    changes were missed; list events again to catch up";
    default:
      return undefined;
  }
}

/**
 * Follows a stream until Ctrl-C, printing each message. When the server goes away (a restart,
 * a deploy) it follows again after a pause; the first message after that is a fresh snapshot.
 */
async function follow<T>(
  ctx: CommandContext,
  open: (signal: AbortSignal) => AsyncIterable<T>,
  print: (message: T) => void,
): Promise<void> {
  const signal = ctx.io.signal ?? new AbortController().signal;
  while (!signal.aborted) {
    try {
      for await (const message of open(signal)) print(message);
      return;
    } catch (error) {
      if (signal.aborted) return;
      const failure = ConnectError.from(error);
      if (failure.code !== Code.Unavailable) throw failure;
      ctx.note(`${stamp()} connection lost (${failure.rawMessage}); following again`);
      await sleep(reconnectDelayMs, undefined, { signal }).catch(() => undefined);
    }
  }
}

/** `grouppe watch [id]`. */
export function registerWatch(program: Command, action: Action): void {
  program
    .command("watch")
    .description("follow changes live until Ctrl-C: one event, or every event without an id")
    .argument("[id]", "the event to follow; without it, the feed of all events")
    .action(
      action(async (ctx, [id]) => {
        const events = ctx.client().events;
        if (id !== undefined) {
          await follow(
            ctx,
            (signal) => events.watchEvent({ id }, { signal }),
            (message) => {
              if (ctx.json) return ctx.printJson(toJson(WatchEventResponseSchema, message));
              const line = describeEventChange(message.change);
              if (line !== undefined) ctx.print(`${stamp()}  ${line}`);
            },
          );
          return;
        }
        await follow(
          ctx,
          (signal) => events.watchEvents({}, { signal }),
          (message) => {
            if (ctx.json) return ctx.printJson(toJson(WatchEventsResponseSchema, message));
            const line = describeFeedChange(message.change);
            if (line !== undefined) ctx.print(`${stamp()}  ${line}`);
          },
        );
      }),
    );
}
