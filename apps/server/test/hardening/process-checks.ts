import { expect } from "vitest";
import type { ServerProcess } from "../../src/testing/index.js";
import { expectBackNearBaseline, openFds, type Resources } from "./resources.js";
import { h1 } from "./wire.js";

/** The admin listener's URL, from the server's "admin listener at ..." log line. */
export function adminUrlOf(server: ServerProcess): string {
  for (const line of server.logs) {
    const match = /^admin listener at (\S+)$/.exec(String(line.msg));
    if (match?.[1]) return match[1];
  }
  throw new Error("the server logged no admin listener (is GROUPPE_ADMIN_PORT set?)");
}

/** The sum of a metric's samples whose labels contain `labels`, scraped from /metrics. */
export async function metric(adminUrl: string, name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if ((line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(labels)) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

/**
 * A server process's resources: its open file descriptors from /proc, and its used heap as
 * its own metrics report it (no forced collection from outside, hence a generous bound).
 */
export async function processResources(server: ServerProcess): Promise<Resources> {
  return {
    fds: openFds(server.child.pid ?? 0),
    heapBytes: await metric(adminUrlOf(server), "nodejs_heap_size_used_bytes"),
  };
}

/**
 * What every case against a server process ends with: the same process still runs, it logged
 * nothing at error level or above and no uncaught exception, a canary call on a new
 * connection answers, and its descriptors and heap are back near `baseline`.
 */
export async function expectHealthyProcess(
  server: ServerProcess,
  baseline: Resources,
  what: string,
): Promise<Resources> {
  expect(server.child.exitCode, "the server exited").toBeNull();
  expect(server.child.signalCode, "the server was killed").toBeNull();
  const errors = server.logs.filter((line) => Number(line.level) >= 50);
  expect(errors).toEqual([]);
  const canary = await h1(server.url, {
    path: "/grouppe.v1.EventService/ListEvents",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  expect(canary.status).toBe(200);
  return expectBackNearBaseline(baseline, () => processResources(server), processSlack, {
    what,
  });
}

/** Descriptors and heap a server process may hold above its baseline after a case. */
export const processSlack: Resources = { fds: 20, heapBytes: 96 * 2 ** 20 };
