import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { CalendarService } from "@grouppe/api";
import { describe, expect, it } from "vitest";
import { hashCalendarFeedToken } from "../calendar/calendar-feed-token.js";
import { type Caller, callerKey } from "../rpc/context.js";
import { createCalendarService } from "./calendar-service.js";

/** The service over an in-memory feed table, called as `caller`. */
function calendarFor(caller: Caller, feeds: Map<string, { hash: string; createTime: Date }>) {
  const service = createCalendarService({
    feeds: {
      get: async (userId) => feeds.get(userId),
      replace: async (userId, hash) => {
        const feed = { hash, createTime: new Date("2030-01-01T00:00:00Z") };
        feeds.set(userId, feed);
        return feed;
      },
      remove: async (userId) => {
        feeds.delete(userId);
      },
    },
  });
  return createClient(
    CalendarService,
    createRouterTransport(({ service: register }) => register(CalendarService, service), {
      // What the authentication interceptor would have put on the call.
      router: {
        interceptors: [
          (next) => (request) => {
            request.contextValues.set(callerKey, caller);
            return next(request);
          },
        ],
      },
    }),
  );
}

describe("CalendarService", () => {
  it("makes a feed address whose token only the stored hash matches, replaces and removes it", async () => {
    const feeds = new Map<string, { hash: string; createTime: Date }>();
    const calendar = calendarFor({ kind: "user", userId: "u1" }, feeds);
    expect((await calendar.getCalendarFeed({})).feed).toBeUndefined();

    const first = await calendar.createCalendarFeed({});
    const token = /^\/calendar\/feeds\/([\w-]{43})\.ics$/.exec(first.feedPath)?.[1] ?? "";
    expect(feeds.get("u1")?.hash).toBe(hashCalendarFeedToken(token));
    expect(feeds.get("u1")?.hash).not.toContain(token);
    expect((await calendar.getCalendarFeed({})).feed?.createTime?.seconds).toBe(
      BigInt(Date.parse("2030-01-01T00:00:00Z") / 1000),
    );

    const second = await calendar.createCalendarFeed({});
    expect(second.feedPath).not.toBe(first.feedPath);
    await calendar.deleteCalendarFeed({});
    expect(feeds.has("u1")).toBe(false);
    await calendar.deleteCalendarFeed({});
  });

  it("is UNAUTHENTICATED for anyone but a signed-in user", async () => {
    const calendar = calendarFor({ kind: "anonymous" }, new Map());
    const error = await calendar.getCalendarFeed({}).catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unauthenticated);
  });
});
