import net from "node:net";
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

/** A free loopback port for the server's inspector. */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * The environment that opens a server process's inspector on loopback, so the test can force
 * a full collection there before it reads the heap (see {@link processResources}).
 */
export function inspectorEnv(port: number): Record<string, string> {
  return { NODE_OPTIONS: `--inspect=127.0.0.1:${port}` };
}

/** Forces a full collection in the process behind the inspector and returns its used heap. */
async function heapAfterCollection(inspectorPort: number): Promise<number> {
  const [target] = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  if (!target) throw new Error("the server's inspector lists no target");
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let nextId = 0;
  const send = (method: string, params: object = {}) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const id = ++nextId;
      socket.addEventListener("message", function onMessage(message) {
        const reply = JSON.parse(String(message.data)) as { id?: number; result: never };
        if (reply.id !== id) return;
        socket.removeEventListener("message", onMessage);
        resolve(reply.result);
      });
      socket.send(JSON.stringify({ id, method, params }));
    });
  try {
    await send("HeapProfiler.enable");
    await send("HeapProfiler.collectGarbage");
    await send("HeapProfiler.collectGarbage");
    const answer = (await send("Runtime.evaluate", {
      expression: "process.memoryUsage().heapUsed",
      returnByValue: true,
    })) as { result?: { value?: number } };
    return Number(answer.result?.value);
  } finally {
    socket.close();
  }
}

/**
 * A server process's resources: its open file descriptors from /proc, and its used heap after
 * a full collection forced through its inspector (or, without one, as its metrics report it).
 */
export async function processResources(
  server: ServerProcess,
  inspectorPort?: number,
): Promise<Resources> {
  const heapBytes =
    inspectorPort === undefined
      ? await metric(adminUrlOf(server), "nodejs_heap_size_used_bytes")
      : await heapAfterCollection(inspectorPort);
  // The inspector's own socket is closed by then; counted after it.
  return { fds: openFds(server.child.pid ?? 0), heapBytes };
}

/**
 * What every case against a server process ends with: the same process still runs, it logged
 * nothing at error level or above and no uncaught exception, a canary call on a new
 * connection answers (listing exactly `expectedEventIds`, when given), and its descriptors and
 * heap are back near `baseline`.
 */
export async function expectHealthyProcess(
  server: ServerProcess,
  baseline: Resources,
  what: string,
  { inspectorPort, expectedEventIds }: { inspectorPort?: number; expectedEventIds?: string[] } = {},
): Promise<Resources> {
  expect(server.child.exitCode, "the server exited").toBeNull();
  expect(server.child.signalCode, "the server was killed").toBeNull();
  const errors = server.logs.filter((line) => Number(line.level) >= 50);
  expect(errors).toEqual([]);
  const canary = await h1(server.url, {
    path: "/grouppe.v1.EventService/ListEvents",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ endsAfter: "0001-01-01T00:00:00Z", includeCancelled: true }),
  });
  expect(canary.status).toBe(200);
  if (expectedEventIds) {
    const { events = [] } = JSON.parse(canary.body.toString("utf8")) as {
      events?: { id: string }[];
    };
    expect(events.map((e) => e.id).sort(), "the events in the database").toEqual(
      [...expectedEventIds].sort(),
    );
  }
  return expectBackNearBaseline(
    baseline,
    () => processResources(server, inspectorPort),
    processSlack,
    {
      what,
    },
  );
}

/**
 * Descriptors and heap a server process may hold above its baseline after a case: the heap
 * bound is for a collected heap (caches such as the read cache fill up).
 */
export const processSlack: Resources = { fds: 20, heapBytes: 32 * 2 ** 20 };
