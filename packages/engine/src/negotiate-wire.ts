import type { DescMethod } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";

/** The protocol and encoding of one call, from its HTTP method and Content-Type. */
export interface Wire {
  protocol: "grpc" | "grpc_web" | "connect";
  /** Protobuf binary; JSON otherwise. */
  binary: boolean;
  /** Enveloped body (gRPC, gRPC-Web, Connect streaming); a bare message otherwise. */
  enveloped: boolean;
  /** A Connect GET: the message is in the query string. */
  get: boolean;
  /** The Content-Type of a successful response. */
  responseType: string;
}

function wire(
  protocol: Wire["protocol"],
  binary: boolean,
  enveloped: boolean,
  responseType: string,
  get = false,
): Wire {
  return { protocol, binary, enveloped, get, responseType };
}

const grpcProto = wire("grpc", true, true, "application/grpc+proto");
const grpcJson = wire("grpc", false, true, "application/grpc+json");
const grpcWebProto = wire("grpc_web", true, true, "application/grpc-web+proto");
const grpcWebJson = wire("grpc_web", false, true, "application/grpc-web+json");
const connectProto = wire("connect", true, false, "application/proto");
const connectJson = wire("connect", false, false, "application/json");
const connectStreamProto = wire("connect", true, true, "application/connect+proto");
const connectStreamJson = wire("connect", false, true, "application/connect+json");
const connectGetProto = wire("connect", true, false, "application/proto", true);
const connectGetJson = wire("connect", false, false, "application/json", true);

/** gRPC and gRPC-Web name the same Content-Types for every kind of method. */
const grpcTypes: [string, Wire][] = [
  ["application/grpc", grpcProto],
  ["application/grpc+proto", grpcProto],
  ["application/grpc+json", grpcJson],
  ["application/grpc-web", grpcWebProto],
  ["application/grpc-web+proto", grpcWebProto],
  ["application/grpc-web+json", grpcWebJson],
];

/** Content-Types the engine takes for unary methods, exactly as clients send them. */
const unaryTypes = new Map<string, Wire>([
  ...grpcTypes,
  ["application/proto", connectProto],
  ["application/json", connectJson],
  ["application/json; charset=utf-8", connectJson],
]);

/** Content-Types the engine takes for server- and client-streaming methods. */
const streamTypes = new Map<string, Wire>([
  ...grpcTypes,
  ["application/connect+proto", connectStreamProto],
  ["application/connect+json", connectStreamJson],
]);

/**
 * The wire of a call the engine serves, or undefined for anything else: another HTTP method,
 * an unusual spelling of a Content-Type, a Connect GET without a known encoding. Those go to
 * connect-es, which answers them (often with 405 or 415) exactly as it always has.
 */
export function negotiateWire(
  method: DescMethod,
  httpMethod: string | undefined,
  contentType: string | undefined,
  url: string | undefined,
): Wire | undefined {
  const kind = method.methodKind;
  if (kind === "bidi_streaming") return undefined;
  if (httpMethod === "POST") {
    if (contentType === undefined) return undefined;
    const types = kind === "unary" ? unaryTypes : streamTypes;
    return types.get(contentType) ?? types.get(contentType.toLowerCase());
  }
  if (
    httpMethod === "GET" &&
    kind === "unary" &&
    method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS &&
    url !== undefined
  ) {
    const query = url.indexOf("?");
    if (query < 0) return undefined;
    const encoding = new URLSearchParams(url.slice(query + 1)).get("encoding");
    if (encoding === "proto") return connectGetProto;
    if (encoding === "json") return connectGetJson;
  }
  return undefined;
}
