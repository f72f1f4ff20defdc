import { describe, expect, it } from "vitest";
import { protocolOf } from "./observe.js";

describe("protocolOf", () => {
  it("names the protocol and encoding from the content type", () => {
    const cases: [string | null, string, string][] = [
      ["application/grpc", "/s/M", "grpc_proto"],
      ["application/grpc+proto", "/s/M", "grpc_proto"],
      ["application/grpc+json", "/s/M", "grpc_json"],
      ["application/grpc-web+proto", "/s/M", "grpc_web_proto"],
      ["application/grpc-web", "/s/M", "grpc_web_proto"],
      ["application/grpc-web+json", "/s/M", "grpc_web_json"],
      ["application/json", "/s/M", "connect_json"],
      ["application/json; charset=utf-8", "/s/M", "connect_json"],
      ["application/proto", "/s/M", "connect_proto"],
      ["application/connect+json", "/s/M", "connect_json"],
      ["application/connect+proto", "/s/M", "connect_proto"],
      [null, "/s/M?encoding=proto&message=AA", "connect_proto"],
      [null, "/s/M?encoding=json&message=%7B%7D", "connect_json"],
    ];
    for (const [contentType, url, protocol] of cases)
      expect(protocolOf(contentType, url), String(contentType)).toBe(protocol);
  });
});
