import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { headerTimeout } from "@connectrpc/connect/protocol-grpc";

/**
 * Set to true in a call's `contextValues` to send it without the default deadline, e.g. an
 * ImportEvents stream of a large file that lasts as long as the file takes.
 *
 * @example
 * const contextValues = createContextValues().set(withoutDefaultDeadline, true);
 * await grouppe.events.importEvents(rows, { contextValues });
 */
export const withoutDefaultDeadline = createContextKey(false, {
  description: "send the call without the client's default deadline",
});

/**
 * Gives every unary and client-streaming call a deadline of `timeoutMs` unless its caller set
 * one (`timeoutMs` in the call options). The deadline covers the whole call, retries included,
 * and travels to the server as grpc-timeout so the server stops working on an abandoned call.
 * When it passes, the call fails with DEADLINE_EXCEEDED.
 *
 * Server and bidi streams (WatchEvent, WatchEvents) live as long as the caller wants, so they
 * get no default deadline; a caller may still give them one.
 */
export function createDeadlineInterceptor(timeoutMs: number): Interceptor {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`the default deadline must be a positive number of ms, got ${timeoutMs}`);
  }
  return (next) => async (req) => {
    const kind = req.method.methodKind;
    const endless = kind === "server_streaming" || kind === "bidi_streaming";
    if (endless || req.header.has(headerTimeout) || req.contextValues.get(withoutDefaultDeadline)) {
      return next(req);
    }

    const deadline = new AbortController();
    const timer = setTimeout(() => {
      deadline.abort(
        new ConnectError(`the call took longer than ${timeoutMs} ms`, Code.DeadlineExceeded),
      );
    }, timeoutMs);
    const stopTimer = () => clearTimeout(timer);
    req.header.set(headerTimeout, `${timeoutMs}m`);
    const signal = AbortSignal.any([req.signal, deadline.signal]);
    try {
      const res = await next({ ...req, signal });
      if (!res.stream) {
        stopTimer();
        return res;
      }
      // A client stream's answer is read after this returns; the deadline lasts until then.
      return { ...res, message: untilDone(res.message, stopTimer) };
    } catch (error) {
      stopTimer();
      throw error;
    }
  };
}

async function* untilDone(
  messages: AsyncIterable<MessageShape<DescMessage>>,
  onDone: () => void,
): AsyncGenerator<MessageShape<DescMessage>> {
  try {
    yield* messages;
  } finally {
    onDone();
  }
}
