import { forkModule, nextMessage, stopChild } from "../child-process.js";
import { processCpuMs } from "../grouppe/process-cpu.js";
import type { SeededData } from "../grouppe/seed-grouppe.js";
import type { LatencySummary } from "../load/load-spec.js";
import type { FanoutRow, ServerName, Storage } from "../report/report-types.js";
import type { BenchContext } from "./bench-context.js";
import type { WatchCommand, WatchingReply, WriteCommand, WrittenReply } from "./fanout-messages.js";

/** How many watchers, over how many sessions, with how many concurrent writers. */
export interface FanoutShape {
  watchers: number;
  /** Streams per HTTP/2 session; grouppe allows 100, so 1,000 watchers need >= 10 sessions. */
  streamsPerSession: number;
  writers: number;
  durationSeconds: number;
}

interface FinishedReply {
  type: "finished";
  messages: number;
  unmatched: number;
  seconds: number;
  perWatcher: { min: number; max: number };
  latencyFromSendUs: LatencySummary;
  latencyFromAckUs: LatencySummary;
  streamErrors: Record<string, number>;
}

/** Lets the last deliveries arrive after the final write before the watchers stop counting. */
const drainMs = 1_000;

/**
 * WatchEvent fan-out: watchers (one child process) hold streams on one event while writers
 * (another child process) change its attendance; measures delivered messages per second and
 * the delay from each write to its arrival.
 */
export async function runFanoutScenario(
  url: string,
  storage: Storage,
  seeded: SeededData,
  shape: FanoutShape,
  context: BenchContext,
  server: {
    /** How the row is labelled; "grouppe" by default. */
    name?: ServerName;
    /** The server's process, whose CPU time per message the row reports; not read when unset. */
    pid?: number;
  } = {},
): Promise<FanoutRow> {
  const { pid } = server;
  const serverCpuMs = () => (pid === undefined ? undefined : processCpuMs(pid));
  const sessions = Math.ceil(shape.watchers / shape.streamsPerSession);
  const watchers = forkModule("scenarios/fanout-watchers");
  const writer = forkModule("scenarios/fanout-writer");
  try {
    await Promise.all([
      nextMessage(watchers, "ready", 30_000),
      nextMessage(writer, "ready", 30_000),
    ]);
    const watching = nextMessage<WatchingReply>(watchers, "watching", 120_000);
    watchers.send({
      type: "watch",
      url,
      eventId: seeded.fanout.eventId,
      watchers: shape.watchers,
      sessions,
    } satisfies WatchCommand);
    const opened = await watching;
    if (opened.watching === 0)
      throw new Error(`no watcher opened: ${JSON.stringify(opened.failed)}`);
    const written = nextMessage<WrittenReply>(
      writer,
      "written",
      (shape.durationSeconds + 120) * 1_000,
    );
    const cpuBefore = await serverCpuMs();
    writer.send({
      type: "write",
      url,
      eventId: seeded.fanout.eventId,
      accessTokens: seeded.fanout.users.map((user) => user.accessToken),
      concurrency: shape.writers,
      durationSeconds: shape.durationSeconds,
    } satisfies WriteCommand);
    const writes = await written;
    await new Promise((resolve) => setTimeout(resolve, drainMs));
    const finished = nextMessage<FinishedReply>(watchers, "finished", 120_000);
    watchers.send({ type: "finish", writes: writes.writes });
    const result = await finished;
    const cpuAfter = await serverCpuMs();
    const streamErrors = { ...opened.failed, ...result.streamErrors };
    if (result.unmatched > 0) streamErrors.unmatched_etag = result.unmatched;
    const row: FanoutRow = {
      server: server.name ?? "grouppe",
      storage,
      watchers: shape.watchers,
      sessions,
      watching: opened.watching,
      writes: writes.writes.length,
      writesPerSecond: writes.writes.length / writes.seconds,
      writeErrors: writes.errors,
      messages: result.messages,
      messagesPerSecond: result.seconds > 0 ? result.messages / result.seconds : 0,
      serverCpuMsPerThousand:
        cpuBefore === undefined || cpuAfter === undefined || result.messages === 0
          ? undefined
          : ((cpuAfter - cpuBefore) * 1_000) / result.messages,
      perWatcher: result.perWatcher,
      latencyFromSendUs: result.latencyFromSendUs,
      latencyFromAckUs: result.latencyFromAckUs,
      streamErrors,
    };
    const cpu =
      row.serverCpuMsPerThousand === undefined
        ? ""
        : `, ${row.serverCpuMsPerThousand.toFixed(1)} ms server CPU per 1,000 msgs`;
    context.progress(
      `grouppe/${storage} WatchEvent fan-out: ${row.watching}/${row.watchers} watchers, ${Math.round(row.writesPerSecond)} writes/s, ${Math.round(row.messagesPerSecond)} msgs/s${cpu}, p50 ${Math.round(row.latencyFromSendUs.p50)} µs, p99 ${Math.round(row.latencyFromSendUs.p99)} µs`,
    );
    return row;
  } finally {
    await Promise.all([stopChild(watchers), stopChild(writer)]);
  }
}
