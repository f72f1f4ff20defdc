/**
 * Child process of the idle-connections scenario: opens its share of h2c connections and
 * holds them, idle, until it is stopped. Several of these split the sockets so no process
 * nears the open-files cap.
 */
import type http2 from "node:http2";
import { reportReady, serveParent } from "../child-process.js";
import { connectH2c } from "../load/node-h2-load.js";

const held: http2.ClientHttp2Session[] = [];
const connectBatch = 200;

serveParent<{ type: "open"; url: string; count: number }>(
  "open",
  "opened",
  async ({ url, count }) => {
    const failed: Record<string, number> = {};
    for (let start = 0; start < count; start += connectBatch) {
      const size = Math.min(connectBatch, count - start);
      const outcomes = await Promise.allSettled(
        Array.from({ length: size }, () => connectH2c(url, 30_000)),
      );
      for (const outcome of outcomes) {
        if (outcome.status === "fulfilled") {
          outcome.value.on("error", () => {});
          held.push(outcome.value);
        } else {
          const code = (outcome.reason as NodeJS.ErrnoException).code ?? "connect_failed";
          failed[code] = (failed[code] ?? 0) + 1;
        }
      }
    }
    const stillOpen = held.filter((session) => !session.closed && !session.destroyed).length;
    return { opened: stillOpen, failed };
  },
);
reportReady();
