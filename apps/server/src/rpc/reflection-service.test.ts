import { execFile } from "node:child_process";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import {
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  timestampFromDate,
} from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter, createClient, createRouterTransport } from "@connectrpc/connect";
import {
  connectNodeAdapter,
  createConnectTransport,
  createGrpcTransport,
} from "@connectrpc/connect-node";
import { AuthService, apiFiles, EventService } from "@grouppe/api";
import {
  file_grpc_health_v1_health,
  Health,
  HealthCheckResponse_ServingStatus,
} from "@grouppe/api/health";
import { reflectionV1, reflectionV1alpha } from "@grouppe/api/reflection";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerReflection } from "./reflection-service.js";

const run = promisify(execFile);

const servedFiles = [...apiFiles, file_grpc_health_v1_health];
const serviceNames = [EventService.typeName, AuthService.typeName, Health.typeName];

/** The services a reflection client discovers, each answering for real. */
function routes(router: ConnectRouter): void {
  registerReflection(router, servedFiles, serviceNames);
  router.service(Health, {
    check: () => ({ status: HealthCheckResponse_ServingStatus.SERVING }),
  });
  router.service(EventService, {
    getEvent: (request) => ({
      event: {
        id: request.id,
        title: `event ${request.id}`,
        startsAt: timestampFromDate(new Date("2030-05-01T18:00:00Z")),
      },
    }),
  });
}

let server: http2.Http2Server;
let baseUrl: string;

beforeAll(async () => {
  server = http2.createServer(connectNodeAdapter({ routes }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function bufCurl(...args: string[]): Promise<string> {
  const { stdout } = await run("npx", ["--no", "buf", "curl", "--http2-prior-knowledge", ...args], {
    timeout: 30_000,
  });
  return stdout;
}

/** Sends every request on one reflection stream and collects the answers. */
async function askV1(
  ...requests: Parameters<typeof create<typeof reflectionV1.ServerReflectionRequestSchema>>[1][]
) {
  const client = createClient(reflectionV1.ServerReflection, createGrpcTransport({ baseUrl }));
  async function* outgoing() {
    for (const request of requests)
      yield create(reflectionV1.ServerReflectionRequestSchema, request);
  }
  const responses: reflectionV1.ServerReflectionResponse[] = [];
  for await (const response of client.serverReflectionInfo(outgoing())) responses.push(response);
  return responses;
}

function fileNames(response: reflectionV1.ServerReflectionResponse): string[] {
  if (response.messageResponse.case !== "fileDescriptorResponse") {
    throw new Error(`expected files, got ${response.messageResponse.case}`);
  }
  return response.messageResponse.value.fileDescriptorProto.map(
    (bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name,
  );
}

/** Orders files as a FileDescriptorSet must be: every import before the files that import it. */
function importsFirst(protos: FileDescriptorProto[]): FileDescriptorProto[] {
  const byName = new Map(protos.map((proto) => [proto.name, proto]));
  const ordered = new Map<string, FileDescriptorProto>();
  const visit = (proto: FileDescriptorProto): void => {
    if (ordered.has(proto.name)) return;
    for (const name of proto.dependency) {
      const dependency = byName.get(name);
      if (dependency === undefined)
        throw new Error(`${proto.name} imports ${name}, which was not sent`);
      visit(dependency);
    }
    ordered.set(proto.name, proto);
  };
  for (const proto of protos) visit(proto);
  return [...ordered.values()];
}

function errorOf(response: reflectionV1.ServerReflectionResponse) {
  if (response.messageResponse.case !== "errorResponse") {
    throw new Error(`expected an error, got ${response.messageResponse.case}`);
  }
  return response.messageResponse.value;
}

describe("buf curl against server reflection", () => {
  for (const protocol of ["grpc-v1", "grpc-v1alpha"]) {
    it(`lists every method over ${protocol}`, async () => {
      const out = await bufCurl(
        "--protocol",
        "grpc",
        "--reflect-protocol",
        protocol,
        "--list-methods",
        baseUrl,
      );
      const methods = out.trim().split("\n");
      expect(methods).toEqual(
        expect.arrayContaining([
          "grouppe.v1.EventService/GetEvent",
          "grouppe.v1.EventService/WatchEvents",
          "grouppe.v1.EventService/ImportEvents",
          "grouppe.v1.AuthService/SignUp",
          "grpc.health.v1.Health/Check",
        ]),
      );
      expect(methods).toHaveLength(
        EventService.methods.length + AuthService.methods.length + Health.methods.length,
      );
    });
  }

  it("calls a method with the schema taken from reflection alone", async () => {
    const id = "0b7c3f0e-7a43-4f0e-9a55-1f0a4c7d2e11";
    const out = await bufCurl(
      "--protocol",
      "grpc",
      "-d",
      JSON.stringify({ id }),
      `${baseUrl}/grouppe.v1.EventService/GetEvent`,
    );
    expect(JSON.parse(out)).toEqual({
      event: { id, title: `event ${id}`, startsAt: "2030-05-01T18:00:00Z" },
    });
  });

  it("calls the health service over the Connect protocol", async () => {
    const out = await bufCurl("-d", "{}", `${baseUrl}/grpc.health.v1.Health/Check`);
    expect(JSON.parse(out)).toEqual({ status: "SERVING" });
  });
});

describe("grpc.reflection.v1 over a connect-node client", () => {
  it("lists the registered services and echoes host and request", async () => {
    const [answer] = await askV1({
      host: "events.example",
      messageRequest: { case: "listServices", value: "*" },
    });
    expect(answer?.validHost).toBe("events.example");
    expect(answer?.originalRequest?.messageRequest).toEqual({ case: "listServices", value: "*" });
    expect(answer?.messageResponse.case).toBe("listServicesResponse");
    if (answer?.messageResponse.case !== "listServicesResponse") return;
    expect(answer.messageResponse.value.service.map((service) => service.name)).toEqual(
      serviceNames,
    );
  });

  it("answers a file with its whole import closure, enough to rebuild every service", async () => {
    const [answer] = await askV1({
      messageRequest: { case: "fileByFilename", value: "grouppe/v1/event_service.proto" },
    });
    if (answer?.messageResponse.case !== "fileDescriptorResponse") throw new Error("no files");
    const protos = answer.messageResponse.value.fileDescriptorProto.map((bytes) =>
      fromBinary(FileDescriptorProtoSchema, bytes),
    );
    expect(protos[0]?.name).toBe("grouppe/v1/event_service.proto");
    expect(protos.map((proto) => proto.name)).toEqual(
      expect.arrayContaining([
        "grouppe/v1/event.proto",
        "grouppe/v1/person.proto",
        "buf/validate/validate.proto",
        "google/protobuf/descriptor.proto",
        "google/protobuf/timestamp.proto",
        "google/protobuf/field_mask.proto",
      ]),
    );
    expect(new Set(protos.map((proto) => proto.name)).size).toBe(protos.length);
    const registry = createFileRegistry(
      create(FileDescriptorSetSchema, { file: importsFirst(protos) }),
    );
    expect(
      registry.getService("grouppe.v1.EventService")?.methods.map((method) => method.name),
    ).toEqual(EventService.methods.map((method) => method.name));
    expect(registry.getMessage("grouppe.v1.Event")?.fields.length).toBeGreaterThan(10);
  });

  it("finds the file of services, methods, messages, enums, nested types, fields and enum values", async () => {
    const symbols = {
      "grouppe.v1.EventService": "grouppe/v1/event_service.proto",
      "grouppe.v1.EventService.WatchEvent": "grouppe/v1/event_service.proto",
      "grouppe.v1.AuthService.LogIn": "grouppe/v1/auth_service.proto",
      "grouppe.v1.Event": "grouppe/v1/event.proto",
      "grouppe.v1.Event.starts_at": "grouppe/v1/event.proto",
      "grouppe.v1.Location.kind": "grouppe/v1/event.proto",
      "grouppe.v1.RsvpStatus": "grouppe/v1/event.proto",
      "grouppe.v1.RSVP_STATUS_WAITLISTED": "grouppe/v1/event.proto",
      "grouppe.v1.Person": "grouppe/v1/person.proto",
      "grpc.health.v1.HealthCheckResponse.ServingStatus": "grpc/health/v1/health.proto",
      "grpc.health.v1.HealthCheckResponse.SERVING": "grpc/health/v1/health.proto",
      "google.protobuf.DescriptorProto.ExtensionRange": "google/protobuf/descriptor.proto",
      "buf.validate.field": "buf/validate/validate.proto",
    };
    const answers = await askV1(
      ...Object.keys(symbols).map((symbol) => ({
        messageRequest: { case: "fileContainingSymbol" as const, value: symbol },
      })),
    );
    expect(answers.map((answer) => fileNames(answer)[0])).toEqual(Object.values(symbols));
  });

  it("answers NOT_FOUND for unknown names and for extensions that are not ours", async () => {
    const answers = await askV1(
      { messageRequest: { case: "fileContainingSymbol", value: "grouppe.v1.Nope" } },
      { messageRequest: { case: "fileContainingSymbol", value: "grouppe.v1.EventService.Nope" } },
      { messageRequest: { case: "fileByFilename", value: "grouppe/v1/nope.proto" } },
      {
        messageRequest: {
          case: "fileContainingExtension",
          value: { containingType: "google.protobuf.FieldOptions", extensionNumber: 1159 },
        },
      },
      { messageRequest: { case: "allExtensionNumbersOfType", value: "grouppe.v1.Nope" } },
    );
    expect(answers.map((answer) => errorOf(answer).errorCode)).toEqual([
      Code.NotFound,
      Code.NotFound,
      Code.NotFound,
      Code.NotFound,
      Code.NotFound,
    ]);
    expect(errorOf(answers[3] as reflectionV1.ServerReflectionResponse).errorMessage).toBe(
      "extension 1159 of google.protobuf.FieldOptions not found",
    );
  });

  it("lists no extension numbers for a known type and refuses an empty request", async () => {
    const [numbers, empty] = await askV1(
      { messageRequest: { case: "allExtensionNumbersOfType", value: "grouppe.v1.Event" } },
      {},
    );
    expect(numbers?.messageResponse).toEqual({
      case: "allExtensionNumbersResponse",
      value: expect.objectContaining({ baseTypeName: "grouppe.v1.Event", extensionNumber: [] }),
    });
    expect(errorOf(empty as reflectionV1.ServerReflectionResponse).errorCode).toBe(
      Code.InvalidArgument,
    );
  });
});

describe("grpc.reflection.v1alpha over a connect-node client", () => {
  it("answers the same questions on one stream over the Connect protocol", async () => {
    const client = createClient(
      reflectionV1alpha.ServerReflection,
      createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true }),
    );
    async function* outgoing() {
      yield create(reflectionV1alpha.ServerReflectionRequestSchema, {
        messageRequest: { case: "listServices", value: "" },
      });
      yield create(reflectionV1alpha.ServerReflectionRequestSchema, {
        messageRequest: { case: "fileContainingSymbol", value: "grpc.health.v1.Health.Check" },
      });
      yield create(reflectionV1alpha.ServerReflectionRequestSchema, {
        messageRequest: { case: "fileByFilename", value: "missing.proto" },
      });
    }
    const answers: reflectionV1alpha.ServerReflectionResponse[] = [];
    for await (const answer of client.serverReflectionInfo(outgoing())) answers.push(answer);
    expect(answers.map((answer) => answer.messageResponse.case)).toEqual([
      "listServicesResponse",
      "fileDescriptorResponse",
      "errorResponse",
    ]);
    const files = answers[1]?.messageResponse;
    if (files?.case !== "fileDescriptorResponse") throw new Error("no files");
    expect(
      files.value.fileDescriptorProto.map(
        (bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name,
      ),
    ).toEqual(["grpc/health/v1/health.proto"]);
    expect(answers[2]?.messageResponse.value).toMatchObject({ errorCode: Code.NotFound });
  });
});

describe("registerReflection", () => {
  it("refuses a service that the files do not declare", () => {
    expect(() =>
      createRouterTransport((router) =>
        registerReflection(router, [...apiFiles], ["grouppe.v1.MissingService"]),
      ),
    ).toThrow("reflection: service grouppe.v1.MissingService is not declared in the given files");
  });
});
