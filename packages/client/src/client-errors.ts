import { Code, ConnectError } from "@connectrpc/connect";

// Membership is by identity, so a marked error stays marked however many layers rethrow it,
// and no header or message text can forge the mark.
const unsentErrors = new WeakSet<ConnectError>();
const finalErrors = new WeakSet<ConnectError>();

/**
 * An UNAVAILABLE error for a call that never reached a server (no connection, or the address's
 * circuit is open). Such a call did nothing anywhere, so any call may safely be retried.
 */
export function unsentError(address: string, cause: unknown): ConnectError {
  const reason =
    cause instanceof ConnectError
      ? cause.rawMessage
      : cause instanceof Error
        ? cause.message
        : String(cause);
  const error = new ConnectError(
    `could not send the call to ${address}: ${reason}`,
    Code.Unavailable,
    undefined,
    undefined,
    cause,
  );
  unsentErrors.add(error);
  return error;
}

/** Whether the error says the call never reached a server. */
export function isUnsent(error: ConnectError): boolean {
  return unsentErrors.has(error);
}

const retryAfter = new WeakMap<ConnectError, number>();

/**
 * An error the client raises on purpose to fail fast (every circuit open, client closed):
 * retrying it at once would only add delay. `retryAfterMs` says when trying again makes sense
 * (an open circuit's cool-down); a call whose deadline lasts that long waits and tries again.
 */
export function finalError(message: string, code: Code, retryAfterMs?: number): ConnectError {
  const error = new ConnectError(message, code);
  finalErrors.add(error);
  if (retryAfterMs !== undefined) retryAfter.set(error, retryAfterMs);
  return error;
}

/** When a final error may be tried again, if ever. */
export function finalRetryAfterMs(error: ConnectError): number | undefined {
  return retryAfter.get(error);
}

/** Whether the error must not be retried whatever the call. */
export function isFinal(error: ConnectError): boolean {
  return finalErrors.has(error);
}
