/**
 * Peer: @grpc/grpc-js serving Health/Check and GetEvent from memory, with messages
 * (de)serialized by @bufbuild/protobuf on the generated schemas.
 */
import { type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import {
  type GetEventRequest,
  GetEventRequestSchema,
  type GetEventResponse,
  GetEventResponseSchema,
} from "@grouppe/api";
import {
  type HealthCheckRequest,
  HealthCheckRequestSchema,
  type HealthCheckResponse,
  HealthCheckResponseSchema,
} from "@grouppe/api/health";
import * as grpc from "@grpc/grpc-js";
import { reportReady } from "../child-process.js";
import { fixtureEventId, fixtureGetEventResponse, servingResponse } from "./fixture.js";

function unaryMethod<I extends DescMessage, O extends DescMessage>(
  path: string,
  input: I,
  output: O,
): grpc.MethodDefinition<MessageShape<I>, MessageShape<O>> {
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: (message) => Buffer.from(toBinary(input, message)),
    requestDeserialize: (bytes) => fromBinary(input, bytes),
    responseSerialize: (message) => Buffer.from(toBinary(output, message)),
    responseDeserialize: (bytes) => fromBinary(output, bytes),
  };
}

const serving = servingResponse();
const getEvent = fixtureGetEventResponse();
const server = new grpc.Server();
server.addService(
  {
    check: unaryMethod(
      "/grpc.health.v1.Health/Check",
      HealthCheckRequestSchema,
      HealthCheckResponseSchema,
    ),
  },
  {
    check: (
      _call: grpc.ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>,
      callback: grpc.sendUnaryData<HealthCheckResponse>,
    ) => callback(null, serving),
  },
);
server.addService(
  {
    getEvent: unaryMethod(
      "/grouppe.v1.EventService/GetEvent",
      GetEventRequestSchema,
      GetEventResponseSchema,
    ),
  },
  {
    getEvent: (
      call: grpc.ServerUnaryCall<GetEventRequest, GetEventResponse>,
      callback: grpc.sendUnaryData<GetEventResponse>,
    ) => {
      if (call.request.id === fixtureEventId) callback(null, getEvent);
      else callback({ code: grpc.status.NOT_FOUND, details: "event not found" });
    },
  },
);
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
    error ? reject(error) : resolve(bound),
  ),
);

reportReady({ h2cPort: port });
