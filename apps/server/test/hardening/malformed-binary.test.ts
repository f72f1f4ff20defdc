/**
 * A unary request whose binary protobuf does not parse is the caller's error
 * (INVALID_ARGUMENT) on every protocol, whether the engine serves the call or connect-es does
 * (GROUPPE_ENGINE=connect); connect-es on its own would answer INTERNAL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../src/testing/index.js";
import { allOf, everyProtocol, malformedListEventsRequests } from "./wire.js";

const listEvents = "/grouppe.v1.EventService/ListEvents";

describe.each(["connect", "engine"])("with GROUPPE_ENGINE=%s", (engine) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ GROUPPE_ENGINE: engine });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it.each(Object.entries(malformedListEventsRequests))(
    "answers %s with INVALID_ARGUMENT over gRPC, gRPC-Web and Connect",
    async (_label, binary) => {
      const result = await everyProtocol(server.baseUrl, listEvents, { binary });
      expect(Object.keys(result)).toHaveLength(4);
      expect(result).toEqual(allOf(result, "invalid_argument"));
    },
  );

  it("still answers a well-formed binary request", async () => {
    const result = await everyProtocol(server.baseUrl, listEvents, { binary: Buffer.alloc(0) });
    expect(result).toEqual({
      "connect+proto h1": "ok",
      "connect+proto h2": "ok",
      "grpc-web+proto h1": "grpc-status 0",
      "grpc+proto h2": "grpc-status 0",
    });
  });
});
