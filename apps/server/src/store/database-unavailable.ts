/**
 * The database could not be reached, or lost the connection mid-statement: nothing was wrong
 * with the request, and the same call may succeed once the database is back. The RPC layer
 * answers it with UNAVAILABLE, which clients retry, rather than INTERNAL.
 */
export class DatabaseUnavailableError extends Error {
  override readonly name = "DatabaseUnavailableError";

  constructor(cause: unknown) {
    super(
      `the database is unavailable (${cause instanceof Error ? cause.message : String(cause)})`,
      {
        cause,
      },
    );
  }
}

/**
 * SQLSTATEs that say the server cannot serve now: class 08 (connection exception), 57P01-57P03
 * (shutting down, crashed, starting up) and 53300 (too many connections).
 */
const unavailableState = /^(08...|57P0[123]|53300)$/;

/** Socket errors of a connection that was refused, reset or never made. */
const socketErrors = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * What node-postgres throws when a connection is lost or cannot be had; it gives these no
 * code, so the message is all there is.
 */
const lostConnection =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed)/;

/** Whether an error from the PostgreSQL driver means the database is out of reach. */
export function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (unavailableState.test(code) || socketErrors.has(code))) {
    return true;
  }
  if (error instanceof AggregateError) return error.errors.some(isConnectionFailure);
  return lostConnection.test(error.message);
}

/** `error` as a {@link DatabaseUnavailableError} when it is a connection failure, else as is. */
export function unavailableOr(error: unknown): unknown {
  return isConnectionFailure(error) ? new DatabaseUnavailableError(error) : error;
}
