import { Code, ConnectError } from "@connectrpc/connect";
import { isNetworkFailure } from "./error-messages.js";

/** Where a followed stream stands. */
export type StreamStatus = "connecting" | "live" | "reconnecting" | "stopped";

/** How long to wait before reconnecting, growing with each failed attempt. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

/** What {@link followStream} needs. */
export interface FollowStreamOptions<T> {
  /** Opens the stream; `onHeader` is called when the server answers. */
  open: (options: { signal: AbortSignal; onHeader: () => void }) => AsyncIterable<T>;
  /** Handles one message; returning "stop" ends following (the event was deleted). */
  onMessage: (message: T) => unknown;
  onStatus?: (status: StreamStatus, error?: ConnectError) => void;
  /** Stops following for good. */
  signal: AbortSignal;
  backoff?: Backoff;
  /**
   * Reconnects when nothing, not even a heartbeat, arrives for this long: some proxies drop a
   * quiet connection without telling either end.
   */
  idleTimeoutMs?: number;
  random?: () => number;
}

/** The default: half a second, doubling up to half a minute. */
export const defaultBackoff: Backoff = { initialMs: 500, maxMs: 30_000 };

/** The wait before reconnect attempt `attempt` (1-based): exponential, with full jitter. */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(backoff.initialMs / 2 + random() * (ceiling - backoff.initialMs / 2));
}

/**
 * Whether a stream that ended with this error is worth opening again: the server or the network
 * went away, or the server shed load. Errors about the request itself (not found, not allowed,
 * bad input) would only repeat.
 */
export function isRetryableStreamError(error: ConnectError): boolean {
  return (
    isNetworkFailure(error) ||
    error.code === Code.Unavailable ||
    error.code === Code.DeadlineExceeded ||
    error.code === Code.ResourceExhausted ||
    error.code === Code.Aborted ||
    error.code === Code.Internal
  );
}

const idleReason = "stream idle";

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * Follows a server stream until `signal` aborts or `onMessage` says stop: a stream that ends,
 * or fails with a retryable error, is opened again after a backoff that resets once a message
 * arrives. Resolves when following stops.
 */
export async function followStream<T>(options: FollowStreamOptions<T>): Promise<void> {
  const { open, onMessage, onStatus, signal } = options;
  const backoff = options.backoff ?? defaultBackoff;
  const random = options.random ?? Math.random;
  let failures = 0;
  while (!signal.aborted) {
    onStatus?.(failures === 0 ? "connecting" : "reconnecting");
    const attempt = new AbortController();
    const stopAttempt = () => attempt.abort();
    signal.addEventListener("abort", stopAttempt, { once: true });
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const armIdleTimer = () => {
      if (options.idleTimeoutMs === undefined) return;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(
        () => attempt.abort(new ConnectError(idleReason, Code.Unavailable)),
        options.idleTimeoutMs,
      );
    };
    try {
      armIdleTimer();
      const live = () => onStatus?.("live");
      for await (const message of open({ signal: attempt.signal, onHeader: live })) {
        // Only a message proves the stream works; a server that answers and hangs up at once
        // keeps backing off.
        live();
        failures = 0;
        armIdleTimer();
        if (onMessage(message) === "stop") {
          onStatus?.("stopped");
          return;
        }
      }
    } catch (error) {
      if (signal.aborted) break;
      const reason = attempt.signal.reason;
      const connectError =
        reason instanceof ConnectError && reason.rawMessage === idleReason
          ? reason
          : ConnectError.from(error);
      if (!isRetryableStreamError(connectError)) {
        onStatus?.("stopped", connectError);
        return;
      }
    } finally {
      clearTimeout(idleTimer);
      signal.removeEventListener("abort", stopAttempt);
      attempt.abort();
    }
    failures += 1;
    onStatus?.("reconnecting");
    await sleep(backoffDelay(failures, backoff, random), signal);
  }
  onStatus?.("stopped");
}
