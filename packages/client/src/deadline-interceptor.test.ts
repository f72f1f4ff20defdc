import { setTimeout as sleep } from "node:timers/promises";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import { EventService } from "@grouppe/api";
import { eventually } from "@grouppe/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../test/test-server.js";
import { createGrouppeClient, type GrouppeClient } from "./create-grouppe-client.js";

const eventId = "0190a6f4-7c1e-7b8a-9c3d-2e4f5a6b7c8d";

/** What the server saw of each call: the deadline it was given and whether it was abandoned. */
interface Seen {
  timeoutMs: number | undefined;
  aborted: boolean;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server whose methods take `delayMs` before answering, or until the caller gives up. */
async function startSlowServer(delayMs: number): Promise<{ server: TestServer; seen: Seen[] }> {
  const seen: Seen[] = [];
  async function work(signal: AbortSignal, timeoutMs: number | undefined): Promise<void> {
    const call: Seen = { timeoutMs, aborted: false };
    seen.push(call);
    await sleep(delayMs, undefined, { signal }).catch(() => {
      call.aborted = true;
    });
  }
  const server = await startTestServer((router: ConnectRouter) => {
    router.service(EventService, {
      async getEvent(request, context) {
        await work(context.signal, context.timeoutMs());
        return { event: { id: request.id } };
      },
      async *watchEvent(request, context) {
        await work(context.signal, context.timeoutMs());
        yield { change: { case: "snapshot", value: { id: request.id } } };
      },
      async importEvents(requests, context) {
        let receivedCount = 0;
        for await (const _ of requests) receivedCount++;
        await work(context.signal, context.timeoutMs());
        return { receivedCount };
      },
    });
  });
  cleanups.push(() => server.stop());
  return { server, seen };
}

function clientFor(server: TestServer, timeoutMs: number): GrouppeClient {
  const client = createGrouppeClient({ addresses: [server.address], timeoutMs });
  cleanups.push(() => client.close());
  return client;
}

describe("deadline interceptor", () => {
  it("ends a unary call at the default deadline with DEADLINE_EXCEEDED and tells the server", async () => {
    // Long enough for the call to reach the server even on a busy machine.
    const { server, seen } = await startSlowServer(30_000);
    const client = clientFor(server, 1_000);

    await expect(client.events.getEvent({ id: eventId })).rejects.toMatchObject({
      code: Code.DeadlineExceeded,
    });

    expect(seen.length).toBe(1);
    expect(seen[0]?.timeoutMs).toBeGreaterThan(0);
    expect(seen[0]?.timeoutMs).toBeLessThanOrEqual(1_000);
    // The server stops working on the call once its deadline passes.
    await eventually(() => seen[0]?.aborted === true, { what: "the server abandoned the call" });
  });

  it("lets a call set its own deadline, longer or shorter", async () => {
    const { server } = await startSlowServer(300);
    const impatient = clientFor(server, 100);
    const patient = clientFor(server, 5_000);

    const { event } = await impatient.events.getEvent({ id: eventId }, { timeoutMs: 5_000 });
    expect(event?.id).toBe(eventId);

    await expect(patient.events.getEvent({ id: eventId }, { timeoutMs: 50 })).rejects.toMatchObject(
      { code: Code.DeadlineExceeded },
    );
  });

  it("gives client streams the default deadline", async () => {
    const { server, seen } = await startSlowServer(30_000);
    const client = clientFor(server, 1_000);

    async function* rows() {
      yield { key: "row-1", event: { title: "Picnic" }, organizerId: eventId };
    }
    await expect(client.events.importEvents(rows())).rejects.toMatchObject({
      code: Code.DeadlineExceeded,
    });
    expect(seen[0]?.timeoutMs).toBeLessThanOrEqual(1_000);
  });

  it("leaves server streams without a deadline", async () => {
    const { server, seen } = await startSlowServer(400);
    const client = clientFor(server, 150);

    const changes: string[] = [];
    for await (const response of client.events.watchEvent({ id: eventId })) {
      changes.push(response.change.case ?? "");
    }

    expect(changes).toEqual(["snapshot"]);
    expect(seen[0]?.timeoutMs).toBeUndefined();
    expect(seen[0]?.aborted).toBe(false);
  });

  it("rejects a default deadline that is not a positive number", () => {
    expect(() => createGrouppeClient({ addresses: ["http://127.0.0.1:1"], timeoutMs: 0 })).toThrow(
      /positive/,
    );
  });
});
