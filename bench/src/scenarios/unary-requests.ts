import { create } from "@bufbuild/protobuf";
import { GetEventRequestSchema, ListEventsRequestSchema } from "@grouppe/api";
import { HealthCheckRequestSchema } from "@grouppe/api/health";
import type { Protocol, RequestTemplate } from "../load/load-spec.js";
import { unaryRequest } from "../load/rpc-protocol.js";

/** The read-only unary calls the bench measures. */
export type UnaryMethod = "Health/Check" | "GetEvent" | "ListEvents";

/** The request of `method` over `protocol`; `eventId` is the GetEvent target. */
export function unaryTemplate(
  method: UnaryMethod,
  protocol: Protocol,
  eventId: string,
): RequestTemplate {
  switch (method) {
    case "Health/Check":
      return unaryRequest(
        protocol,
        "/grpc.health.v1.Health/Check",
        HealthCheckRequestSchema,
        create(HealthCheckRequestSchema),
      );
    case "GetEvent":
      return unaryRequest(
        protocol,
        "/grouppe.v1.EventService/GetEvent",
        GetEventRequestSchema,
        create(GetEventRequestSchema, { id: eventId }),
      );
    case "ListEvents":
      return unaryRequest(
        protocol,
        "/grouppe.v1.EventService/ListEvents",
        ListEventsRequestSchema,
        create(ListEventsRequestSchema, { pageSize: 20 }),
      );
  }
}
