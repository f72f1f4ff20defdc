import { repoRoot } from "../paths.js";
import type { ProfileFrame, ProfileSummary } from "./report-types.js";

/** The parts of a V8 `.cpuprofile` the summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

function shortLocation(url: string, lineNumber: number): string {
  if (url === "") return "(native)";
  const path = url.replace(`file://${repoRoot}/`, "").replace(/^file:\/\//, "");
  return `${path}:${lineNumber + 1}`;
}

/** A span of the monotonic clock in microseconds (`process.hrtime` in any local process). */
export interface MonotonicWindow {
  fromMicros: number;
  toMicros: number;
}

/**
 * Adds up self time per function (name, file, line) over a V8 CPU profile and returns the
 * `top` frames by self time, as a share of the time the process was not idle. With `window`,
 * only samples taken inside it count: V8 stamps samples with the same monotonic clock as
 * `process.hrtime`, so the load phase can be cut out of a whole-process profile.
 */
export function summarizeCpuProfile(
  json: string,
  workload: string,
  options: { top?: number; window?: MonotonicWindow } = {},
): ProfileSummary {
  const { top = 20, window } = options;
  const profile = JSON.parse(json) as CpuProfile;
  let sampledAt = profile.startTime;
  const byNode = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const selfMicros = new Map<string, { functionName: string; location: string; micros: number }>();
  let totalMicros = 0;
  let idleMicros = 0;
  for (let index = 0; index < profile.samples.length; index++) {
    // timeDeltas[i] is the time since the previous sample; sample i ran until sample i + 1.
    sampledAt += profile.timeDeltas[index] ?? 0;
    const micros = profile.timeDeltas[index + 1] ?? 0;
    const frame = byNode.get(profile.samples[index] ?? -1);
    if (!frame) continue;
    if (window && (sampledAt < window.fromMicros || sampledAt > window.toMicros)) continue;
    totalMicros += micros;
    if (frame.functionName === "(idle)") {
      idleMicros += micros;
      continue;
    }
    const location = shortLocation(frame.url, frame.lineNumber);
    const functionName = frame.functionName || "(anonymous)";
    const key = `${functionName}@${location}`;
    const entry = selfMicros.get(key) ?? { functionName, location, micros: 0 };
    entry.micros += micros;
    selfMicros.set(key, entry);
  }
  const busyMicros = totalMicros - idleMicros;
  const frames: ProfileFrame[] = [...selfMicros.values()]
    .sort((a, b) => b.micros - a.micros)
    .slice(0, top)
    .map((entry) => ({
      functionName: entry.functionName,
      location: entry.location,
      selfMs: Math.round(entry.micros / 100) / 10,
      selfPercent: busyMicros > 0 ? Math.round((entry.micros / busyMicros) * 1_000) / 10 : 0,
    }));
  return {
    workload,
    sampledMs: Math.round(totalMicros / 1_000),
    idlePercent: totalMicros > 0 ? Math.round((idleMicros / totalMicros) * 1_000) / 10 : 0,
    frames,
  };
}
