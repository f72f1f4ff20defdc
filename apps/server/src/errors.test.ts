import { Code, ConnectError } from "@connectrpc/connect";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { toPublicError } from "./errors.js";
import { DatabaseUnavailableError } from "./store/database-unavailable.js";

const log = { logger: pino({ level: "silent" }), requestId: "r-1", procedure: "ImportEvents" };

describe("toPublicError", () => {
  it("makes a malformed protobuf message in a request stream INVALID_ARGUMENT", () => {
    const parseError = new ConnectError("parse binary: premature EOF", Code.Internal);
    const error = toPublicError(parseError, log);
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe("parse binary: premature EOF");
  });

  it("hides other internal errors behind the request id", () => {
    const error = toPublicError(new ConnectError("database on fire", Code.Internal), log);
    expect(error.code).toBe(Code.Internal);
    expect(error.rawMessage).not.toContain("database");
    expect(error.rawMessage).toContain("r-1");
  });

  it("answers an unreachable database with UNAVAILABLE, without the driver's words", () => {
    const lost = new DatabaseUnavailableError(
      new Error("connect ECONNREFUSED 10.1.2.3:5432 (db.internal)"),
    );
    const error = toPublicError(lost, log);
    expect(error.code).toBe(Code.Unavailable);
    expect(error.rawMessage).not.toContain("10.1.2.3");
  });
});
