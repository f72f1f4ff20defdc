import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";

/**
 * A request gate for the calls connect-es serves, so that they answer a request message that
 * is not binary protobuf (bad varint, truncated message, invalid UTF-8) as the engine does:
 * INVALID_ARGUMENT, the caller's error. connect-es answers INTERNAL ("parse binary: ...").
 *
 * connect-es has no hook into its request parsing, and parses a unary request before any
 * interceptor runs. But every protocol handler aborts the call's context with the error right
 * before it writes the error out; the gate sees that context first and listens for the abort.
 */
export function recodeUnparsableBinary(context: HandlerContext): void {
  context.signal.addEventListener("abort", onAbort, { once: true });
}

function onAbort(this: AbortSignal): void {
  const error: unknown = this.reason;
  if (
    error instanceof ConnectError &&
    error.code === Code.Internal &&
    error.rawMessage.startsWith("parse binary:")
  ) {
    // The handler writes this very object next; a new one would not reach the wire.
    const recoded = new ConnectError(error.rawMessage, Code.InvalidArgument);
    Object.assign(error, { code: recoded.code, message: recoded.message });
  }
}
