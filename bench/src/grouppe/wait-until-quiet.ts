import { setTimeout as sleep } from "node:timers/promises";
import { processCpuMs } from "./process-cpu.js";

/** How a wait for a process to go quiet is paced; the defaults suit a server just loaded. */
export interface QuietOptions {
  /** How often the CPU time is read (ms). */
  intervalMs?: number;
  /** Quiet means at most this share of one core over one interval. */
  busyShare?: number;
  /** Give up waiting after this long (ms); the caller goes on either way. */
  maxMs?: number;
  /** Reads the CPU time used so far (ms); /proc by default. */
  cpuMs?: (pid: number) => Promise<number>;
  /** Waits; `node:timers/promises` by default. */
  wait?: (ms: number) => Promise<unknown>;
}

/**
 * Waits until process `pid` uses little CPU: a server goes on working after its load stops
 * (answering the calls still queued, collecting their garbage), and the next server measured
 * on this 2-core machine would pay for it. Returns how long it waited and whether it went quiet.
 */
export async function waitUntilQuiet(
  pid: number,
  options: QuietOptions = {},
): Promise<{ waitedMs: number; quiet: boolean }> {
  const {
    intervalMs = 100,
    busyShare = 0.1,
    maxMs = 3_000,
    cpuMs = processCpuMs,
    wait = sleep,
  } = options;
  let waitedMs = 0;
  let previous = await cpuMs(pid);
  while (waitedMs < maxMs) {
    await wait(intervalMs);
    waitedMs += intervalMs;
    const current = await cpuMs(pid);
    if (current - previous <= intervalMs * busyShare) return { waitedMs, quiet: true };
    previous = current;
  }
  return { waitedMs, quiet: false };
}
