import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema, RetryInfoSchema } from "@grouppe/api/rpc";
import { describe, expect, it } from "vitest";
import { describeError, errorReason, isNetworkFailure } from "./error-messages.js";

function withReason(code: Code, reason: string, metadata: Record<string, string> = {}) {
  return new ConnectError("developer text", code, undefined, [
    {
      desc: ErrorInfoSchema,
      value: create(ErrorInfoSchema, { reason, domain: "grouppe.dev", metadata }),
    },
  ]);
}

describe("describeError", () => {
  it("prefers the ErrorInfo reason over the code", () => {
    expect(describeError(withReason(Code.Aborted, "ETAG_MISMATCH"))).toBe(
      "Someone else changed this event — reload to see their changes, then try again.",
    );
    expect(describeError(withReason(Code.AlreadyExists, "EMAIL_TAKEN"))).toMatch(/already exists/);
    expect(describeError(withReason(Code.Unauthenticated, "INVALID_CREDENTIALS"))).toMatch(
      /email address and password/,
    );
  });

  it("falls back to a sentence per code and never shows the server's text", () => {
    for (const code of Object.values(Code).filter(
      (value): value is Code => typeof value === "number",
    )) {
      const sentence = describeError(new ConnectError("internal detail xyz", code));
      expect(sentence).not.toContain("xyz");
      expect(sentence).not.toMatch(/\[|_/);
      expect(sentence.length).toBeGreaterThan(10);
    }
  });

  it("treats a failed fetch as a connection problem", () => {
    const offline = ConnectError.from(new TypeError("Failed to fetch"));
    expect(isNetworkFailure(offline)).toBe(true);
    expect(describeError(offline)).toMatch(/can't reach grouppe/);
  });

  it("says how long to wait when the server sent RetryInfo", () => {
    const limited = new ConnectError("slow down", Code.ResourceExhausted, undefined, [
      { desc: RetryInfoSchema, value: create(RetryInfoSchema, { retryDelay: { seconds: 7n } }) },
    ]);
    expect(describeError(limited)).toBe("You're going a little fast. Try again in 7 seconds.");
  });

  it("quotes the request id of an internal error", () => {
    expect(describeError(withReason(Code.Internal, "INTERNAL", { requestId: "req-42" }))).toMatch(
      /reference req-42/,
    );
  });

  it("reads the reason and ignores errors that are not ConnectErrors", () => {
    expect(errorReason(withReason(Code.NotFound, "EVENT_NOT_FOUND"))).toBe("EVENT_NOT_FOUND");
    expect(errorReason(new Error("x"))).toBeUndefined();
    expect(describeError("weird")).toBe("Something went wrong. Please try again.");
  });
});
