import type { Interceptor } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import { grouppeError, permissionDenied, unauthenticated } from "../../errors.js";
import type { EventStore } from "../../store/stores.js";
import { accessTable, targetEventId } from "../access-table.js";
import { callerKey } from "../context.js";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Enforces the authorization table. Runs before validation so that an anonymous caller learns
 * "sign in" rather than details of the request; the organizer check only looks up well-formed
 * ids and leaves malformed ones to validation.
 */
export function createAuthorizeInterceptor(events: Pick<EventStore, "organizerOf">): Interceptor {
  return (next) => async (req) => {
    const access = accessTable.get(req.method);
    if (access === undefined) {
      throw grouppeError(
        Code.PermissionDenied,
        "METHOD_NOT_ALLOWED",
        `${req.method.name} has no authorization rule`,
      );
    }
    if (access === "anyone") return next(req);
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
      const eventId = targetEventId(req.message);
      if (eventId !== undefined && uuid.test(eventId)) {
        const organizerId = await events.organizerOf(eventId);
        if (organizerId === undefined)
          throw grouppeError(Code.NotFound, "EVENT_NOT_FOUND", "event not found");
        if (organizerId !== caller.userId)
          throw permissionDenied("only the organizer may change this event", "NOT_ORGANIZER");
      }
    }
    return next(req);
  };
}
