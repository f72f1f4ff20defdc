import { setTimeout as sleep } from "node:timers/promises";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { durationMs, MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import {
  Code,
  ConnectError,
  type Interceptor,
  type StreamRequest,
  type StreamResponse,
  type UnaryRequest,
} from "@connectrpc/connect";
import { createAsyncIterable, getAbortSignalReason } from "@connectrpc/connect/protocol";
import { headerTimeout, parseTimeout } from "@connectrpc/connect/protocol-grpc";
import { RetryInfoSchema } from "@grouppe/api/rpc";
import { ExponentialBackoff, fullJitterGenerator, type IBackoff } from "cockatiel";
import { finalRetryAfterMs, isFinal, isUnsent } from "./client-errors.js";
import { hasRequestId, withRequestId } from "./request-id.js";

/** How failed calls are retried. Every bound holds at once: attempts, elapsed time, deadline. */
export interface RetryOptions {
  /** Attempts per call, the first one included. Default 4. */
  maxAttempts?: number;
  /** The cap of the first backoff; each later cap doubles. Default 100. */
  initialBackoffMs?: number;
  /** The largest backoff cap. Default 2000. */
  maxBackoffMs?: number;
  /** No retry starts later than this after the call began. Default 15000. */
  maxElapsedMs?: number;
  /** Called before each retry waits, for logs and metrics. */
  onRetry?: (event: RetryEvent) => void;
}

/** A retry about to happen. */
export interface RetryEvent {
  /** The method, as "grouppe.v1.EventService/GetEvent". */
  procedure: string;
  /** The attempt about to start: 2 for the first retry. */
  attempt: number;
  /** How long the client waits before that attempt. */
  delayMs: number;
  /** Why the previous attempt failed. */
  error: ConnectError;
}

type AnyRequest = UnaryRequest | StreamRequest;

// Far beyond any deadline a caller sets; only used to parse the grpc-timeout header.
const maxTimeoutMs = 2 ** 31 - 1;

/**
 * Retries calls that are safe to repeat, with exponential backoff and full jitter.
 *
 * - A call that never reached a server (no connection, circuit open) is retried whatever the
 *   method: nothing happened anywhere.
 * - A call that reached a server is retried only when repeating it is harmless: its method is
 *   declared NO_SIDE_EFFECTS or IDEMPOTENT, or its request carries a request_id (one is filled
 *   in when absent, so a retried CreateEvent creates one event). Then UNAVAILABLE is retried
 *   with backoff, and RESOURCE_EXHAUSTED only when the server sent google.rpc.RetryInfo, after
 *   exactly the delay it asked for. Nothing else is retried.
 * - A server stream is retried only until its first message arrives; a client or bidi stream
 *   only when it never reached a server, because its input cannot be replayed.
 *
 * When every address's circuit is open, a call waits for the first cool-down to end when its
 * deadline allows, otherwise it fails at once.
 *
 * Retries stop at `maxAttempts`, after `maxElapsedMs`, and when the wait would outlast the
 * call's deadline; each retry tells the server the deadline time that is left.
 */
export function createRetryInterceptor(options: RetryOptions = {}): Interceptor {
  const maxAttempts = options.maxAttempts ?? 4;
  const maxElapsedMs = options.maxElapsedMs ?? 15_000;
  const backoff = new ExponentialBackoff({
    generator: fullJitterGenerator,
    initialDelay: options.initialBackoffMs ?? 100,
    maxDelay: options.maxBackoffMs ?? 2_000,
  });

  async function withRetries<R extends AnyRequest, T>(
    req: R,
    safe: boolean,
    attempt: (req: R) => Promise<T>,
  ): Promise<T> {
    const startedAt = Date.now();
    const { timeoutMs } = parseTimeout(req.header.get(headerTimeout), maxTimeoutMs);
    const deadlineAt = timeoutMs === undefined ? Number.POSITIVE_INFINITY : startedAt + timeoutMs;
    const retryUntil = Math.min(deadlineAt, startedAt + maxElapsedMs);
    let currentBackoff: IBackoff<unknown> | undefined;
    const nextBackoffMs = () => {
      currentBackoff = currentBackoff ? currentBackoff.next(undefined) : backoff.next();
      return currentBackoff.duration;
    };
    for (let attemptNumber = 1; ; attemptNumber++) {
      try {
        return await attempt(req);
      } catch (reason) {
        const error = ConnectError.from(reason);
        if (attemptNumber >= maxAttempts || req.signal.aborted) throw error;
        const delayMs = retryDelayMs(error, safe, nextBackoffMs);
        if (delayMs === undefined || Date.now() + delayMs >= retryUntil) throw error;
        options.onRetry?.({
          procedure: `${req.service.typeName}/${req.method.name}`,
          attempt: attemptNumber + 1,
          delayMs,
          error,
        });
        await pause(delayMs, req.signal);
        if (Number.isFinite(deadlineAt)) {
          req.header.set(headerTimeout, `${Math.max(1, Math.ceil(deadlineAt - Date.now()))}m`);
        }
      }
    }
  }

  return (next) => async (req) => {
    if (!req.stream) {
      const message = withRequestId(req.method.input, req.message);
      const safe = hasSafeMethod(req) || hasRequestId(req.method.input, message);
      return withRetries({ ...req, message }, safe, next);
    }
    if (req.method.methodKind === "server_streaming") {
      const input = await onlyMessage(req.message);
      return withRetries(req, hasSafeMethod(req), async (attemptRequest) =>
        peekFirstMessage(
          (await next({
            ...attemptRequest,
            message: createAsyncIterable([input]),
          })) as StreamResponse,
        ),
      );
    }
    return withRetries(req, false, next);
  };
}

/** How long to wait before retrying after `error`, or undefined when it must not be retried. */
function retryDelayMs(
  error: ConnectError,
  safe: boolean,
  nextBackoffMs: () => number,
): number | undefined {
  // Every circuit open: worth one more try once the first cool-down ends, if the call lasts.
  if (isFinal(error)) return finalRetryAfterMs(error);
  if (isUnsent(error)) return nextBackoffMs();
  if (!safe) return undefined;
  const requestedMs = retryInfoDelayMs(error);
  switch (error.code) {
    case Code.Unavailable:
      return requestedMs ?? nextBackoffMs();
    case Code.ResourceExhausted:
      return requestedMs;
    default:
      return undefined;
  }
}

function retryInfoDelayMs(error: ConnectError): number | undefined {
  const delay = error.findDetails(RetryInfoSchema)[0]?.retryDelay;
  return delay === undefined ? undefined : Math.max(0, durationMs(delay));
}

function hasSafeMethod(req: AnyRequest): boolean {
  return (
    req.method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS ||
    req.method.idempotency === MethodOptions_IdempotencyLevel.IDEMPOTENT
  );
}

async function pause(delayMs: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(delayMs, undefined, { signal });
  } catch {
    // The call's deadline or its caller ended the call while it waited.
    throw ConnectError.from(getAbortSignalReason(signal), Code.Canceled);
  }
}

async function onlyMessage<T>(messages: AsyncIterable<T>): Promise<T> {
  for await (const message of messages) return message;
  throw new ConnectError("missing input message for a server-streaming method", Code.Internal);
}

/**
 * Waits for a stream's first message, so that a failure before it surfaces here, where the
 * call can still be retried, and replays that message ahead of the rest.
 */
async function peekFirstMessage(res: StreamResponse): Promise<StreamResponse> {
  const iterator = res.message[Symbol.asyncIterator]();
  const first = await iterator.next();
  return { ...res, message: replay(first, iterator) };
}

async function* replay(
  first: IteratorResult<MessageShape<DescMessage>>,
  rest: AsyncIterator<MessageShape<DescMessage>>,
): AsyncGenerator<MessageShape<DescMessage>> {
  if (first.done) return;
  yield first.value;
  for (let item = await rest.next(); !item.done; item = await rest.next()) yield item.value;
}
