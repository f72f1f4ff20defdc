import { readdirSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { eventually } from "@grouppe/testkit";

/**
 * A full collection on demand, so heap figures compare live objects rather than garbage that
 * happens not to be collected yet. `--expose-gc` set at run time exposes `gc` to contexts made
 * afterwards; the test process needs no command-line flag.
 */
setFlagsFromString("--expose-gc");
const collect = runInNewContext("gc") as (() => void) | undefined;

/** What a process holds: open file descriptors, and its heap after a full collection. */
export interface Resources {
  fds: number;
  heapBytes: number;
}

/** Open file descriptors of a process (this one by default), from /proc. */
export function openFds(pid: number | "self" = "self"): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** This process's file descriptors and heap, the heap measured after a forced collection. */
export async function ownResources(): Promise<Resources> {
  // Two rounds: the first can free objects whose finalizers release more.
  for (let round = 0; round < 2; round++) {
    collect?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { fds: openFds(), heapBytes: process.memoryUsage().heapUsed };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/**
 * Waits until `measure` is back within `slack` of `baseline` (sockets close and memory is
 * freed a little after a case ends), and fails with every figure when it does not come back.
 */
export async function expectBackNearBaseline(
  baseline: Resources,
  measure: () => Promise<Resources>,
  slack: Resources,
  { what, timeoutMs = 10_000 }: { what: string; timeoutMs?: number },
): Promise<Resources> {
  let last = baseline;
  try {
    return await eventually(
      async () => {
        last = await measure();
        return (
          last.fds - baseline.fds <= slack.fds &&
          last.heapBytes - baseline.heapBytes <= slack.heapBytes &&
          last
        );
      },
      { what, timeoutMs, intervalMs: 100 },
    );
  } catch {
    throw new Error(
      `${what}: file descriptors ${last.fds} (baseline ${baseline.fds}, allowed +${slack.fds}), ` +
        `heap ${mib(last.heapBytes)} (baseline ${mib(baseline.heapBytes)}, allowed +${mib(slack.heapBytes)})`,
    );
  }
}
