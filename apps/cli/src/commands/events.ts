import { create, toJson } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import {
  CancelEventResponseSchema,
  type Event,
  EventSchema,
  GetEventResponseSchema,
  ListEventsResponseSchema,
  LocationSchema,
  Relation,
  UpdateEventResponseSchema,
} from "@grouppe/api";
import type { Command } from "commander";
import { CliError } from "../cli-error.js";
import { ExitCode } from "../exit-codes.js";
import { eventDetails, eventsTable } from "../format.js";
import { parseCount, parseTime } from "../parse-values.js";
import type { Action } from "./action.js";

/** The writable fields of an event, as a request takes them. */
type EventInit = {
  -readonly [K in Exclude<keyof Event, "$typeName" | "$unknown">]?: Event[K];
};

interface EventFields {
  title?: string;
  description?: string;
  starts?: Timestamp;
  ends?: Timestamp;
  timeZone?: string;
  venue?: string;
  url?: string;
  capacity?: number;
}

/** The event fields the flags set, and their names for an update mask. */
function eventFrom(fields: EventFields): { event: EventInit; paths: string[] } {
  const event: EventInit = {};
  const paths: string[] = [];
  if (fields.title !== undefined) {
    event.title = fields.title;
    paths.push("title");
  }
  if (fields.description !== undefined) {
    event.description = fields.description;
    paths.push("description");
  }
  if (fields.starts !== undefined) {
    event.startsAt = fields.starts;
    paths.push("starts_at");
  }
  if (fields.ends !== undefined) {
    event.endsAt = fields.ends;
    paths.push("ends_at");
  }
  if (fields.timeZone !== undefined) {
    event.timeZone = fields.timeZone;
    paths.push("time_zone");
  }
  if (fields.venue !== undefined && fields.url !== undefined) {
    throw new CliError("give --venue or --url, not both", ExitCode.usage);
  }
  if (fields.venue !== undefined) {
    event.location = create(LocationSchema, { kind: { case: "address", value: fields.venue } });
    paths.push("location");
  }
  if (fields.url !== undefined) {
    event.location = create(LocationSchema, { kind: { case: "onlineUrl", value: fields.url } });
    paths.push("location");
  }
  if (fields.capacity !== undefined) {
    event.capacity = fields.capacity;
    paths.push("capacity");
  }
  return { event, paths };
}

function eventFlags(command: Command): Command {
  return command
    .option("--title <text>", "what the event is called")
    .option("--description <text>", "what to expect")
    .option(
      "--starts <time>",
      "start, ISO 8601 (e.g. 2030-01-01T18:00:00Z; no offset = local)",
      parseTime,
    )
    .option("--ends <time>", "end, ISO 8601, after the start", parseTime)
    .option("--time-zone <zone>", "IANA time zone the event is held in, e.g. Europe/Berlin")
    .option("--venue <address>", "street address or venue name")
    .option("--url <url>", "http(s) URL of an online meeting")
    .option("--capacity <n>", "seats; 0 means unlimited", parseCount);
}

/** `grouppe events list|get|create|update|cancel|delete`. */
export function registerEvents(program: Command, action: Action): void {
  const events = program.command("events").description("list, show and change events");

  events
    .command("list")
    .description("list upcoming events, soonest first")
    .option("--query <text>", "only events whose title or description contains this")
    .option("--mine", "only events you organize")
    .option("--attending", "only events you RSVPed to")
    .option("--include-cancelled", "also list cancelled events")
    .option("--limit <n>", "events per page (server maximum applies)", parseCount)
    .option("--page-token <token>", "continue from a previous page")
    .action(
      action(async (ctx, _args, opts) => {
        const relation = opts.mine
          ? Relation.ORGANIZING
          : opts.attending
            ? Relation.ATTENDING
            : Relation.UNSPECIFIED;
        const response = await ctx.client().events.listEvents({
          query: (opts.query as string | undefined) ?? "",
          relation,
          includeCancelled: opts.includeCancelled === true,
          pageSize: (opts.limit as number | undefined) ?? 0,
          pageToken: (opts.pageToken as string | undefined) ?? "",
        });
        if (ctx.json) {
          ctx.printJson(toJson(ListEventsResponseSchema, response));
          return;
        }
        if (response.events.length === 0) {
          ctx.print("No events.");
        } else {
          ctx.print(eventsTable(response.events));
        }
        if (response.nextPageToken !== "") {
          ctx.note(`More: grouppe events list --page-token ${response.nextPageToken}`);
        }
      }),
    );

  events
    .command("get")
    .description("show one event")
    .argument("<id>", "the event's id")
    .action(
      action(async (ctx, [id]) => {
        const response = await ctx.client().events.getEvent({ id });
        if (ctx.json) ctx.printJson(toJson(GetEventResponseSchema, response));
        else if (response.event) ctx.print(eventDetails(response.event));
      }),
    );

  eventFlags(
    events
      .command("create")
      .description("create an event you organize (needs `grouppe login`)")
      .option("--request-id <uuid>", "makes a retried create create one event"),
  ).action(
    action(async (ctx, _args, opts) => {
      const { event } = eventFrom(opts as EventFields);
      const missing = [
        ["--title", event.title],
        ["--starts", event.startsAt],
        ["--ends", event.endsAt],
        ["--time-zone", event.timeZone],
        ["--venue or --url", event.location],
      ]
        .filter(([, value]) => value === undefined)
        .map(([flag]) => flag);
      if (missing.length > 0) {
        throw new CliError(`events create needs ${missing.join(", ")}`, ExitCode.usage);
      }
      const response = await ctx.client().events.createEvent({
        event,
        requestId: (opts.requestId as string | undefined) ?? "",
      });
      if (ctx.json) ctx.printJson(toJson(EventSchema, response.event ?? create(EventSchema)));
      else if (response.event) ctx.print(eventDetails(response.event));
    }),
  );

  eventFlags(
    events
      .command("update")
      .description("change the given fields of an event you organize")
      .argument("<id>", "the event's id")
      .option("--etag <etag>", "fail with ABORTED if the event changed since you read it"),
  ).action(
    action(async (ctx, [id], opts) => {
      const { event, paths } = eventFrom(opts as EventFields);
      if (paths.length === 0) {
        throw new CliError(
          "events update needs at least one field to change, e.g. --title",
          ExitCode.usage,
        );
      }
      const response = await ctx.client().events.updateEvent({
        event: { ...event, id, etag: (opts.etag as string | undefined) ?? "" },
        updateMask: create(FieldMaskSchema, { paths: [...new Set(paths)] }),
      });
      if (ctx.json) ctx.printJson(toJson(UpdateEventResponseSchema, response));
      else if (response.event) ctx.print(eventDetails(response.event));
    }),
  );

  events
    .command("cancel")
    .description("call off an event you organize; RSVPs close")
    .argument("<id>", "the event's id")
    .option("--reason <text>", "why, shown to attendees")
    .option("--etag <etag>", "fail with ABORTED if the event changed since you read it")
    .action(
      action(async (ctx, [id], opts) => {
        const response = await ctx.client().events.cancelEvent({
          id,
          reason: (opts.reason as string | undefined) ?? "",
          etag: (opts.etag as string | undefined) ?? "",
        });
        if (ctx.json) ctx.printJson(toJson(CancelEventResponseSchema, response));
        else ctx.print(`Cancelled ${id}.`);
      }),
    );

  events
    .command("delete")
    .description("delete an event you organize, with its RSVPs")
    .argument("<id>", "the event's id")
    .option("--etag <etag>", "fail with ABORTED if the event changed since you read it")
    .action(
      action(async (ctx, [id], opts) => {
        await ctx
          .client()
          .events.deleteEvent({ id, etag: (opts.etag as string | undefined) ?? "" });
        if (ctx.json) ctx.printJson({ deleted: id });
        else ctx.print(`Deleted ${id}.`);
      }),
    );
}
