import { toJson } from "@bufbuild/protobuf";
import {
  JoinEventResponseSchema,
  LeaveEventResponseSchema,
  ListAttendeesResponseSchema,
} from "@grouppe/api";
import type { Command } from "commander";
import { attendeesTable, formatRsvp, formatSeats } from "../format.js";
import { parseCount } from "../parse-values.js";
import type { Action } from "./action.js";

/** `grouppe join`, `grouppe leave` and `grouppe attendees`. */
export function registerRsvp(program: Command, action: Action): void {
  program
    .command("join")
    .description("RSVP to an event: a seat, or the waitlist when it is full")
    .argument("<id>", "the event's id")
    .action(
      action(async (ctx, [eventId]) => {
        const response = await ctx.client().events.joinEvent({ eventId });
        if (ctx.json) {
          ctx.printJson(toJson(JoinEventResponseSchema, response));
          return;
        }
        const status = formatRsvp(response.attendee?.status ?? 0);
        const place = response.attendee?.waitlistPosition
          ? ` (#${response.attendee.waitlistPosition} on the waitlist)`
          : "";
        const seats = response.event ? `; seats ${formatSeats(response.event)}` : "";
        ctx.print(`You are ${status}${place}${seats}.`);
      }),
    );

  program
    .command("leave")
    .description("withdraw your RSVP; the first on the waitlist moves up")
    .argument("<id>", "the event's id")
    .action(
      action(async (ctx, [eventId]) => {
        const response = await ctx.client().events.leaveEvent({ eventId });
        if (ctx.json) ctx.printJson(toJson(LeaveEventResponseSchema, response));
        else ctx.print(`You left${response.event ? ` ${response.event.title}` : ""}.`);
      }),
    );

  program
    .command("attendees")
    .description("list who RSVPed to an event: seats first, then the waitlist")
    .argument("<id>", "the event's id")
    .option("--limit <n>", "attendees per page", parseCount)
    .option("--page-token <token>", "continue from a previous page")
    .action(
      action(async (ctx, [eventId], opts) => {
        const response = await ctx.client().events.listAttendees({
          eventId,
          pageSize: (opts.limit as number | undefined) ?? 0,
          pageToken: (opts.pageToken as string | undefined) ?? "",
        });
        if (ctx.json) {
          ctx.printJson(toJson(ListAttendeesResponseSchema, response));
          return;
        }
        ctx.print(
          response.attendees.length === 0 ? "No attendees." : attendeesTable(response.attendees),
        );
        if (response.nextPageToken !== "") {
          ctx.note(`More: grouppe attendees ${eventId} --page-token ${response.nextPageToken}`);
        }
      }),
    );
}
