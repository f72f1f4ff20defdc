import { describe, expect, it } from "vitest";
import { EnvelopeReader, encodeEnvelope, trailerFlag } from "./grpc-envelope.js";
import { classifyResponse } from "./rpc-protocol.js";

describe("EnvelopeReader", () => {
  it("reassembles envelopes split across chunks and several in one chunk", () => {
    const first = encodeEnvelope(new Uint8Array([1, 2, 3]));
    const second = encodeEnvelope(new Uint8Array([4]), trailerFlag);
    const bytes = Buffer.concat([first, second]);
    const reader = new EnvelopeReader();
    expect(reader.push(bytes.subarray(0, 4))).toEqual([]);
    const envelopes = reader.push(bytes.subarray(4));
    expect(envelopes.map((envelope) => [envelope.flags, [...envelope.payload]])).toEqual([
      [0, [1, 2, 3]],
      [trailerFlag, [4]],
    ]);
  });
});

describe("classifyResponse", () => {
  it("reads grpc-status from trailers, or from headers in a trailers-only answer", () => {
    expect(classifyResponse("grpc", 200, {}, { "grpc-status": "0" }, Buffer.alloc(0))).toBe("ok");
    expect(classifyResponse("grpc", 200, { "grpc-status": "8" }, undefined, Buffer.alloc(0))).toBe(
      "resource_exhausted",
    );
    expect(classifyResponse("grpc", 200, {}, undefined, Buffer.alloc(0))).toBe(
      "missing_grpc_status",
    );
    expect(classifyResponse("grpc", 503, {}, undefined, Buffer.alloc(0))).toBe("http_503");
  });

  it("reads a gRPC-Web status from the trailer frame of the body", () => {
    const body = Buffer.concat([
      encodeEnvelope(new Uint8Array([8, 1])),
      encodeEnvelope(
        new TextEncoder().encode("grpc-status: 5\r\ngrpc-message: gone\r\n"),
        trailerFlag,
      ),
    ]);
    expect(classifyResponse("grpc-web", 200, {}, undefined, body)).toBe("not_found");
  });

  it("reads a Connect error code from the JSON body", () => {
    const body = Buffer.from(JSON.stringify({ code: "unauthenticated", message: "no" }));
    expect(
      classifyResponse(
        "connect-json",
        401,
        { "content-type": "application/json" },
        undefined,
        body,
      ),
    ).toBe("unauthenticated");
    expect(classifyResponse("connect-proto", 200, {}, undefined, Buffer.alloc(0))).toBe("ok");
  });
});
