import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { type CalendarFeed, CalendarFeedSchema, type CalendarService } from "@grouppe/api";
import { calendarFeedPath, newCalendarFeedToken } from "../calendar/calendar-feed-token.js";
import { unauthenticated } from "../errors.js";
import { callerKey } from "../rpc/context.js";
import type { CalendarFeedStore } from "../store/calendar-feed-store.js";

export interface CalendarServiceDeps {
  feeds: Pick<CalendarFeedStore, "get" | "replace" | "remove">;
}

function feedMessage(feed: { createTime: Date }): CalendarFeed {
  return create(CalendarFeedSchema, { createTime: timestampFromDate(feed.createTime) });
}

/** The signed-in user; the access table already refused anyone else. */
function userIdOf(context: HandlerContext): string {
  const caller = context.values.get(callerKey);
  if (caller.kind !== "user") throw unauthenticated("sign in to manage your calendar feed");
  return caller.userId;
}

/** The signed-in user's private calendar feed address: look, make anew, switch off. */
export function createCalendarService(
  deps: CalendarServiceDeps,
): ServiceImpl<typeof CalendarService> {
  const { feeds } = deps;
  return {
    async getCalendarFeed(_request, context) {
      const feed = await feeds.get(userIdOf(context));
      return { feed: feed ? feedMessage(feed) : undefined };
    },

    async createCalendarFeed(_request, context) {
      const { token, hash } = newCalendarFeedToken();
      const feed = await feeds.replace(userIdOf(context), hash);
      return { feed: feedMessage(feed), feedPath: calendarFeedPath(token) };
    },

    async deleteCalendarFeed(_request, context) {
      await feeds.remove(userIdOf(context));
      return {};
    },
  };
}
