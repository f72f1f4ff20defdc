import { forkModule, nextMessage, stopChild } from "../child-process.js";
import { residentKib } from "../grouppe/process-memory.js";
import type { IdleConnectionsRow, Storage } from "../report/report-types.js";
import type { BenchContext } from "./bench-context.js";

/** Sockets per client process: well under the 20,000 open-files cap of each process. */
const connectionsPerWorker = 2_500;

const pause = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

/** RSS once it stops moving (two readings 500 ms apart within 1%), or after ten readings. */
async function settledRss(pid: number): Promise<number> {
  let previous = await residentKib(pid);
  for (let reading = 0; reading < 10; reading++) {
    await pause(500);
    const current = await residentKib(pid);
    if (Math.abs(current - previous) <= previous * 0.01) return current;
    previous = current;
  }
  return previous;
}

/**
 * Opens `target` idle h2c connections to the server (SETTINGS exchanged, no streams) from
 * several child processes and reports the server's RSS growth per connection.
 */
export async function runIdleConnectionsScenario(
  url: string,
  serverPid: number,
  storage: Storage,
  target: number,
  context: BenchContext,
): Promise<IdleConnectionsRow> {
  const rssBeforeKib = await settledRss(serverPid);
  const workers = Array.from({ length: Math.ceil(target / connectionsPerWorker) }, () =>
    forkModule("scenarios/idle-connections-worker"),
  );
  try {
    await Promise.all(workers.map((worker) => nextMessage(worker, "ready", 30_000)));
    const replies = await Promise.all(
      workers.map((worker, index) => {
        const count = Math.min(connectionsPerWorker, target - index * connectionsPerWorker);
        const reply = nextMessage<{
          type: "opened";
          opened: number;
          failed: Record<string, number>;
        }>(worker, "opened", 180_000);
        worker.send({ type: "open", url, count });
        return reply;
      }),
    );
    const rssAfterKib = await settledRss(serverPid);
    const opened = replies.reduce((sum, reply) => sum + reply.opened, 0);
    const failed: Record<string, number> = {};
    for (const reply of replies) {
      for (const [code, count] of Object.entries(reply.failed))
        failed[code] = (failed[code] ?? 0) + count;
    }
    const row: IdleConnectionsRow = {
      storage,
      target,
      opened,
      failed,
      rssBeforeKib,
      rssAfterKib,
      perConnectionKib: opened > 0 ? (rssAfterKib - rssBeforeKib) / opened : 0,
    };
    context.progress(
      `grouppe/${storage} idle connections: ${opened}/${target} open, RSS ${rssBeforeKib} -> ${rssAfterKib} KiB, ${row.perConnectionKib.toFixed(1)} KiB per connection`,
    );
    return row;
  } finally {
    await Promise.all(workers.map((worker) => stopChild(worker)));
  }
}
