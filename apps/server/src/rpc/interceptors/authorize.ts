import type { Interceptor } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import { eventNotFound, grouppeError, permissionDenied, unauthenticated } from "../../errors.js";
import { isUuid } from "../../store/is-uuid.js";
import type { EventStore } from "../../store/stores.js";
import { accessTable, targetEventId } from "../access-table.js";
import { callerKey } from "../context.js";

/**
 * Enforces the authorization table. Runs before validation so that an anonymous caller learns
 * "sign in" rather than details of the request; the organizer check only looks up well-formed
 * ids and leaves malformed ones to validation.
 */
export function createAuthorizeInterceptor(events: Pick<EventStore, "organizerOf">): Interceptor {
  async function checkOrganizer(eventId: string | undefined, userId: string): Promise<void> {
    if (!isUuid(eventId)) return;
    const organizerId = await events.organizerOf(eventId);
    if (organizerId === undefined) throw eventNotFound();
    if (organizerId !== userId)
      throw permissionDenied("only the organizer may change this event", "NOT_ORGANIZER");
  }

  // Not an async function: open methods, the bulk of the traffic, pass without an extra promise.
  return (next) => (req) => {
    const access = accessTable.get(req.method);
    if (access === "anyone") return next(req);
    if (access === undefined) {
      throw grouppeError(
        Code.PermissionDenied,
        "METHOD_NOT_ALLOWED",
        `${req.method.name} has no authorization rule`,
      );
    }
    const caller = req.contextValues.get(callerKey);
    if (caller.kind === "anonymous") {
      throw unauthenticated(
        access === "service"
          ? "this method is for internal services with a client certificate"
          : "sign in first",
      );
    }
    if (access === "service") {
      if (caller.kind !== "service")
        throw permissionDenied("this method is for internal services only", "SERVICE_ONLY");
      return next(req);
    }
    if (caller.kind !== "user")
      throw permissionDenied("this method acts for a signed-in user", "USER_ONLY");
    if (access === "organizer" && !req.stream) {
      return checkOrganizer(targetEventId(req.message), caller.userId).then(() => next(req));
    }
    return next(req);
  };
}
