/**
 * Wall-clock milliseconds with sub-millisecond resolution. Processes on one machine share the
 * wall clock, so a time taken in the writer can be compared with one taken in a watcher.
 */
export function epochMillis(): number {
  return performance.timeOrigin + performance.now();
}
