/**
 * Peer: bare node:http2 answering the gRPC paths with fixed, pre-encoded responses; the
 * ceiling of what Node's HTTP/2 stack does without any RPC framework.
 */
import http2 from "node:http2";
import { toBinary } from "@bufbuild/protobuf";
import { GetEventResponseSchema } from "@grouppe/api";
import { HealthCheckResponseSchema } from "@grouppe/api/health";
import { reportReady } from "../child-process.js";
import { encodeEnvelope } from "../load/grpc-envelope.js";
import { fixtureGetEventResponse, servingResponse } from "./fixture.js";

const responses = new Map<string, Buffer>([
  [
    "/grpc.health.v1.Health/Check",
    Buffer.from(encodeEnvelope(toBinary(HealthCheckResponseSchema, servingResponse()))),
  ],
  [
    "/grouppe.v1.EventService/GetEvent",
    Buffer.from(encodeEnvelope(toBinary(GetEventResponseSchema, fixtureGetEventResponse()))),
  ],
]);

const server = http2.createServer();
server.on("stream", (stream, headers) => {
  stream.on("error", () => {});
  const body = responses.get(String(headers[":path"]));
  stream.resume();
  stream.on("end", () => {
    if (stream.destroyed) return;
    if (!body) {
      stream.respond(
        { ":status": 200, "content-type": "application/grpc", "grpc-status": "12" },
        { endStream: true },
      );
      return;
    }
    stream.respond(
      { ":status": 200, "content-type": "application/grpc" },
      { waitForTrailers: true },
    );
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end(body);
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  reportReady({ h2cPort: address.port });
});
