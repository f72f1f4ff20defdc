import type { DescMethod } from "@bufbuild/protobuf";
import { AuthService, CalendarService, EventService } from "@grouppe/api";
import { Health } from "@grouppe/api/health";
import { reflectionV1, reflectionV1alpha } from "@grouppe/api/reflection";

/**
 * Who may call an RPC:
 * - `anyone`: no credentials needed (a token, when sent, must still be valid);
 * - `user`: a signed-in user (bearer access token);
 * - `organizer`: the signed-in user who organizes the event the request names;
 * - `service`: an internal service, identified by a verified TLS client certificate.
 */
export type Access = "anyone" | "user" | "organizer" | "service";

const events = EventService.method;
const auth = AuthService.method;
const calendar = CalendarService.method;

/** The one authorization table: every RPC the server serves has a row. */
export const accessTable: ReadonlyMap<DescMethod, Access> = new Map<DescMethod, Access>([
  [events.getEvent, "anyone"],
  [events.listEvents, "anyone"],
  [events.listAttendees, "anyone"],
  [events.watchEvent, "anyone"],
  [events.watchEvents, "anyone"],
  [events.createEvent, "user"],
  [events.joinEvent, "user"],
  [events.leaveEvent, "user"],
  [events.updateEvent, "organizer"],
  [events.cancelEvent, "organizer"],
  [events.deleteEvent, "organizer"],
  [events.importEvents, "service"],
  [auth.signUp, "anyone"],
  [auth.logIn, "anyone"],
  [auth.refreshToken, "anyone"],
  [auth.logOut, "anyone"],
  [auth.getCurrentUser, "user"],
  [calendar.getCalendarFeed, "user"],
  [calendar.createCalendarFeed, "user"],
  [calendar.deleteCalendarFeed, "user"],
  [Health.method.check, "anyone"],
  [Health.method.list, "anyone"],
  [Health.method.watch, "anyone"],
  [reflectionV1.ServerReflection.method.serverReflectionInfo, "anyone"],
  [reflectionV1alpha.ServerReflection.method.serverReflectionInfo, "anyone"],
]);

/** The id of the event an organizer-only request acts on. */
export function targetEventId(message: unknown): string | undefined {
  const request = message as { id?: unknown; event?: { id?: unknown } };
  if (typeof request.id === "string") return request.id;
  if (typeof request.event?.id === "string") return request.event.id;
  return undefined;
}
