/**
 * The grouppe.v1 API: message schemas, enums and service descriptors generated from
 * `proto/grouppe/v1`. Pair a service descriptor with a Connect transport:
 *
 * @example
 * import { createClient } from "@connectrpc/connect";
 * import { EventService } from "@grouppe/api";
 * const events = createClient(EventService, transport);
 * const { event } = await events.getEvent({ id });
 */

export { apiFiles } from "./api-files.js";
export * from "./gen/grouppe/v1/auth_service_pb.js";
export * from "./gen/grouppe/v1/calendar_service_pb.js";
export * from "./gen/grouppe/v1/event_pb.js";
export * from "./gen/grouppe/v1/event_service_pb.js";
export * from "./gen/grouppe/v1/person_pb.js";
export * from "./gen/grouppe/v1/user_pb.js";
