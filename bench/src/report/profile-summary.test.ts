import { describe, expect, it } from "vitest";
import { summarizeCpuProfile } from "./profile-summary.js";

describe("summarizeCpuProfile", () => {
  it("adds self time per frame and reports shares of busy time", () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1 } },
        { id: 2, callFrame: { functionName: "(idle)", url: "", lineNumber: -1 } },
        { id: 3, callFrame: { functionName: "encode", url: "file:///x/codec.js", lineNumber: 9 } },
        { id: 4, callFrame: { functionName: "", url: "node:internal/http2/core", lineNumber: 99 } },
      ],
      startTime: 10_000,
      samples: [3, 3, 4, 2, 3],
      timeDeltas: [0, 1_000, 1_000, 1_000, 1_000],
    };
    const summary = summarizeCpuProfile(JSON.stringify(profile), "test");
    expect(summary.sampledMs).toBe(4);
    expect(summary.idlePercent).toBe(25);
    expect(summary.frames).toEqual([
      { functionName: "encode", location: "/x/codec.js:10", selfMs: 2, selfPercent: 66.7 },
      {
        functionName: "(anonymous)",
        location: "node:internal/http2/core:100",
        selfMs: 1,
        selfPercent: 33.3,
      },
    ]);
  });

  it("counts only the samples inside a monotonic window", () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: { functionName: "startUp", url: "file:///x/main.js", lineNumber: 0 } },
        { id: 2, callFrame: { functionName: "serve", url: "file:///x/serve.js", lineNumber: 0 } },
      ],
      startTime: 0,
      samples: [1, 1, 2, 2, 2],
      timeDeltas: [100, 100, 100, 100, 100],
    };
    const summary = summarizeCpuProfile(JSON.stringify(profile), "test", {
      window: { fromMicros: 250, toMicros: 500 },
    });
    expect(summary.frames.map((frame) => [frame.functionName, frame.selfPercent])).toEqual([
      ["serve", 100],
    ]);
  });
});
