import { LatencyRecorder } from "./latency-recorder.js";
import type { LoadResult, LoadSpec, RequestTemplate } from "./load-spec.js";

/** Sends one request and resolves with its outcome ("ok" or an error code name); never rejects. */
export type SendOne = (template: RequestTemplate, slot: number) => Promise<string>;

/** How long a fixed-count run may take at most, so a stalled server cannot hang the bench. */
const countModeLimitMs = 10 * 60_000;

/** How long after the window closes in-flight requests may still finish before being dropped. */
const drainLimitMs = 10_000;

/**
 * Runs `connections * streamsPerConnection` slots, each sending its next request as soon as
 * the previous one finished (closed loop), and measures the requests that complete inside the
 * window: all of them for a fixed count, those after the warm-up for a fixed duration.
 */
export async function driveLoad(spec: LoadSpec, sendOne: SendOne): Promise<LoadResult> {
  const slots = spec.connections * spec.streamsPerConnection;
  const sequences = spec.slotSequences ?? [[0]];
  const recorder = new LatencyRecorder();
  const errors: Record<string, number> = {};
  let ok = 0;
  let issued = 0;
  const now = () => performance.now();
  const started = now();
  const countMode = spec.requestCount !== undefined;
  const windowStart = countMode ? started : started + (spec.warmUpSeconds ?? 0) * 1_000;
  const windowEnd = countMode
    ? started + countModeLimitMs
    : windowStart + (spec.durationSeconds ?? 1) * 1_000;
  let lastCompletion = started;

  const runSlot = async (slot: number) => {
    const sequence = sequences[slot % sequences.length] ?? [0];
    for (let step = 0; ; step++) {
      // In count mode windowEnd is the safety limit, so both checks apply there.
      if (now() >= windowEnd || (countMode && issued >= (spec.requestCount ?? 0))) return;
      issued++;
      const template = spec.requests[sequence[step % sequence.length] ?? 0];
      if (!template) throw new Error(`slot ${slot} names a request that does not exist`);
      const sentAt = process.hrtime.bigint();
      const sentAtMs = now();
      const outcome = await sendOne(template, slot);
      const doneAtMs = now();
      if (sentAtMs < windowStart || doneAtMs > windowEnd) continue;
      lastCompletion = Math.max(lastCompletion, doneAtMs);
      recorder.recordNanos(Number(process.hrtime.bigint() - sentAt));
      if (outcome === "ok") ok++;
      else errors[outcome] = (errors[outcome] ?? 0) + 1;
    }
  };

  const all = Promise.all(Array.from({ length: slots }, (_, slot) => runSlot(slot)));
  const drainDeadline = windowEnd - now() + drainLimitMs;
  let drained = true;
  await Promise.race([
    all,
    new Promise<void>((resolve) =>
      setTimeout(() => {
        drained = false;
        resolve();
      }, drainDeadline).unref(),
    ),
  ]);
  if (!drained) errors.unfinished_at_deadline = (errors.unfinished_at_deadline ?? 0) + 1;
  if (recorder.count === 0) errors.none_completed_in_window = 1;
  const seconds = countMode
    ? (lastCompletion - started) / 1_000
    : (Math.min(windowEnd, now()) - windowStart) / 1_000;
  return {
    engine: "node",
    requests: recorder.count,
    ok,
    errors,
    seconds,
    requestsPerSecond: seconds > 0 ? recorder.count / seconds : 0,
    latencyUs: recorder.summary(),
  };
}
