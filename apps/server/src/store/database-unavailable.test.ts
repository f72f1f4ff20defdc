import { describe, expect, it } from "vitest";
import {
  DatabaseUnavailableError,
  isConnectionFailure,
  unavailableOr,
} from "./database-unavailable.js";

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe("isConnectionFailure", () => {
  it("takes lost and refused connections and server shutdowns as the database being away", () => {
    for (const error of [
      withCode("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED"),
      withCode("read ECONNRESET", "ECONNRESET"),
      new Error("Connection terminated unexpectedly"),
      new Error("timeout exceeded when trying to connect"),
      withCode("terminating connection due to administrator command", "57P01"),
      withCode("the database system is starting up", "57P03"),
      withCode("sorry, too many clients already", "53300"),
      withCode("connection failure", "08006"),
      new AggregateError([withCode("connect ECONNREFUSED ::1:5432", "ECONNREFUSED")]),
    ]) {
      expect(isConnectionFailure(error), error.message).toBe(true);
    }
  });

  it("leaves SQL errors and bugs alone", () => {
    for (const error of [
      withCode('duplicate key value violates unique constraint "users_email"', "23505"),
      withCode("canceling statement due to statement timeout", "57014"),
      withCode('syntax error at or near "SELEC"', "42601"),
      new TypeError("Cannot read properties of undefined (reading 'id')"),
      "Connection terminated",
    ]) {
      expect(isConnectionFailure(error), String(error)).toBe(false);
    }
  });

  it("wraps only connection failures, keeping the driver's error as the cause", () => {
    const lost = new Error("Connection terminated unexpectedly");
    const wrapped = unavailableOr(lost);
    expect(wrapped).toBeInstanceOf(DatabaseUnavailableError);
    expect((wrapped as Error).cause).toBe(lost);
    const bug = new TypeError("x is not a function");
    expect(unavailableOr(bug)).toBe(bug);
  });
});
