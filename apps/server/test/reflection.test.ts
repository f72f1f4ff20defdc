import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { reflectionV1 } from "@grouppe/api/reflection";
import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../src/testing/index.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The service names the server's reflection lists, over native gRPC. */
async function listServices(baseUrl: string): Promise<string[]> {
  const reflection = createClient(reflectionV1.ServerReflection, createGrpcTransport({ baseUrl }));
  async function* requests() {
    yield { messageRequest: { case: "listServices" as const, value: "" } };
  }
  for await (const response of reflection.serverReflectionInfo(requests())) {
    if (response.messageResponse.case === "listServicesResponse") {
      return response.messageResponse.value.service.map((s) => s.name);
    }
  }
  return [];
}

describe("server reflection", () => {
  it("lists grouppe's services in development", async () => {
    server = await startTestServer();
    expect(await listServices(server.baseUrl)).toEqual(
      expect.arrayContaining([
        "grouppe.v1.EventService",
        "grouppe.v1.AuthService",
        "grpc.health.v1.Health",
      ]),
    );
  });

  it("is UNIMPLEMENTED in production", async () => {
    server = await startTestServer({ NODE_ENV: "production", GROUPPE_ALLOW_PLAINTEXT: "1" });
    const error = await listServices(server.baseUrl).catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unimplemented);
  });
});
