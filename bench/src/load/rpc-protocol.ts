import type { IncomingHttpHeaders } from "node:http";
import { type DescMessage, type MessageShape, toBinary, toJsonString } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { EnvelopeReader, encodeEnvelope, trailerFlag } from "./grpc-envelope.js";
import type { Protocol, RequestTemplate, Transport } from "./load-spec.js";

const contentTypes: Record<Protocol, string> = {
  grpc: "application/grpc",
  "grpc-web": "application/grpc-web+proto",
  "connect-proto": "application/proto",
  "connect-json": "application/json",
};

/** The transport each protocol is measured over: gRPC needs HTTP/2, browsers' protocols get HTTP/1.1. */
export function defaultTransport(protocol: Protocol): Transport {
  return protocol === "grpc" || protocol === "connect-proto" ? "h2c" : "http/1.1";
}

/** Encodes one unary call as `protocol` puts it on the wire. */
export function unaryRequest<Desc extends DescMessage>(
  protocol: Protocol,
  path: string,
  schema: Desc,
  message: MessageShape<Desc>,
  extraHeaders: Record<string, string> = {},
): RequestTemplate {
  const headers: Record<string, string> = {
    "content-type": contentTypes[protocol],
    ...extraHeaders,
  };
  let body: Uint8Array;
  switch (protocol) {
    case "grpc":
      headers.te = "trailers";
      body = encodeEnvelope(toBinary(schema, message));
      break;
    case "grpc-web":
      headers["x-grpc-web"] = "1";
      body = encodeEnvelope(toBinary(schema, message));
      break;
    case "connect-proto":
      headers["connect-protocol-version"] = "1";
      body = toBinary(schema, message);
      break;
    case "connect-json":
      headers["connect-protocol-version"] = "1";
      body = new TextEncoder().encode(toJsonString(schema, message));
      break;
  }
  return { path, headers, bodyBase64: Buffer.from(body).toString("base64") };
}

/** The request body of a template as bytes. */
export function templateBody(template: RequestTemplate): Buffer {
  return Buffer.from(template.bodyBase64, "base64");
}

function grpcCodeName(raw: string | string[] | undefined): string | undefined {
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined) return undefined;
  const code = Number(value);
  if (code === 0) return "ok";
  return Number.isInteger(code) && Code[code] !== undefined
    ? codeToString(code)
    : `grpc_status_${value}`;
}

function grpcWebTrailerStatus(body: Buffer): string | undefined {
  for (const envelope of new EnvelopeReader().push(body)) {
    if ((envelope.flags & trailerFlag) === 0) continue;
    const match = /^grpc-status:\s*(\d+)\s*$/im.exec(
      Buffer.from(envelope.payload).toString("latin1"),
    );
    return grpcCodeName(match?.[1]) ?? "missing_grpc_status";
  }
  return undefined;
}

function connectErrorCode(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { code?: unknown };
    return typeof parsed.code === "string" ? parsed.code : "unparsable_error";
  } catch {
    return "unparsable_error";
  }
}

/**
 * The outcome of one unary response: "ok", or the RPC's error code name (Connect spelling,
 * e.g. "resource_exhausted"), or `http_<status>` when the HTTP layer itself failed.
 */
export function classifyResponse(
  protocol: Protocol,
  status: number,
  headers: IncomingHttpHeaders,
  trailers: IncomingHttpHeaders | undefined,
  body: Buffer,
): string {
  switch (protocol) {
    case "grpc":
      if (status !== 200) return `http_${status}`;
      return (
        grpcCodeName(trailers?.["grpc-status"] ?? headers["grpc-status"]) ?? "missing_grpc_status"
      );
    case "grpc-web":
      if (status !== 200) return `http_${status}`;
      return (
        grpcCodeName(headers["grpc-status"]) ?? grpcWebTrailerStatus(body) ?? "missing_grpc_status"
      );
    case "connect-proto":
    case "connect-json":
      if (status === 200) return "ok";
      return headers["content-type"]?.startsWith("application/json")
        ? connectErrorCode(body)
        : `http_${status}`;
  }
}
