import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { EventService } from "@grouppe/api";
import { RetryInfoSchema } from "@grouppe/api/rpc";
import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../test/test-server.js";
import { isUnsent } from "./client-errors.js";
import {
  createGrouppeClient,
  type GrouppeClient,
  type GrouppeClientOptions,
} from "./create-grouppe-client.js";
import type { RetryEvent } from "./retry-interceptor.js";

const eventId = "0190a6f4-7c1e-7b8a-9c3d-2e4f5a6b7c8d";
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * How the test server misbehaves: `failures` calls fail with `failWith` before calls succeed
 * again; every call is recorded with what it carried.
 */
interface Script {
  failures: number;
  failWith: () => ConnectError;
  /** WatchEvent fails with UNAVAILABLE right after its first message. */
  breakStreams?: boolean;
  calls: { method: string; at: number; timeoutMs: number | undefined; requestId?: string }[];
}

function unavailable(): ConnectError {
  return new ConnectError("instance is restarting", Code.Unavailable);
}

function resourceExhausted(retryAfterMs?: number): ConnectError {
  const details =
    retryAfterMs === undefined
      ? []
      : [{ desc: RetryInfoSchema, value: { retryDelay: durationFromMs(retryAfterMs) } }];
  return new ConnectError("rate limited", Code.ResourceExhausted, undefined, details);
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startScriptedServer(script: Script): Promise<TestServer> {
  const created = new Map<string, string>();
  function misbehave(method: string, timeoutMs: number | undefined, requestId?: string): void {
    script.calls.push({ method, at: performance.now(), timeoutMs, requestId });
    if (script.failures > 0) {
      script.failures--;
      throw script.failWith();
    }
  }
  const server = await startTestServer((router: ConnectRouter) => {
    router.service(EventService, {
      getEvent(request, context) {
        misbehave("GetEvent", context.timeoutMs());
        return { event: { id: request.id, title: "Picnic" } };
      },
      updateEvent(request, context) {
        misbehave("UpdateEvent", context.timeoutMs());
        return { event: request.event };
      },
      joinEvent(request, context) {
        misbehave("JoinEvent", context.timeoutMs());
        return { event: { id: request.eventId } };
      },
      createEvent(request, context) {
        // Creating happens before the failure, like a response lost on its way back: only
        // the request id keeps a retry from creating a second event.
        const id = created.get(request.requestId) ?? crypto.randomUUID();
        created.set(request.requestId, id);
        misbehave("CreateEvent", context.timeoutMs(), request.requestId);
        return { event: { id, title: request.event?.title } };
      },
      async importEvents(rows, context) {
        let receivedCount = 0;
        for await (const _ of rows) receivedCount++;
        misbehave("ImportEvents", context.timeoutMs());
        return { receivedCount };
      },
      async *watchEvent(request, context) {
        misbehave("WatchEvent", context.timeoutMs());
        yield { change: { case: "snapshot", value: { id: request.id, title: "Picnic" } } };
        if (script.breakStreams) throw unavailable();
      },
    });
  });
  cleanups.push(() => server.stop());
  return server;
}

function scriptOf(failures: number, failWith: () => ConnectError = unavailable): Script {
  return { failures, failWith, calls: [] };
}

function clientFor(addresses: string[], options: Partial<GrouppeClientOptions> = {}) {
  const retries: RetryEvent[] = [];
  const client: GrouppeClient = createGrouppeClient({
    addresses,
    ...options,
    retry:
      options.retry === false
        ? false
        : { initialBackoffMs: 20, ...options.retry, onRetry: (event) => retries.push(event) },
  });
  cleanups.push(() => client.close());
  return { client, retries };
}

async function stoppedServerAddress(): Promise<string> {
  const server = await startTestServer(() => {});
  await server.stop();
  return server.address;
}

describe("retry interceptor", () => {
  it("retries a call without side effects on UNAVAILABLE, with growing jittered backoff", async () => {
    const script = scriptOf(3);
    const server = await startScriptedServer(script);
    const { client, retries } = clientFor([server.address], {
      retry: { maxAttempts: 4, initialBackoffMs: 40 },
    });

    const { event } = await client.events.getEvent({ id: eventId });

    expect(event?.id).toBe(eventId);
    expect(script.calls.length).toBe(4);
    expect(retries.map(({ attempt }) => attempt)).toEqual([2, 3, 4]);
    retries.forEach(({ delayMs, error, procedure }, index) => {
      // Full jitter: anywhere from zero up to a cap that doubles with each retry.
      expect(delayMs).toBeGreaterThanOrEqual(0);
      expect(delayMs).toBeLessThan(40 * 2 ** index);
      expect(error.code).toBe(Code.Unavailable);
      expect(procedure).toBe("grouppe.v1.EventService/GetEvent");
    });
  });

  it("gives up after maxAttempts", async () => {
    const script = scriptOf(100);
    const server = await startScriptedServer(script);
    const { client } = clientFor([server.address], { retry: { maxAttempts: 3 } });

    await expect(client.events.getEvent({ id: eventId })).rejects.toMatchObject({
      code: Code.Unavailable,
    });
    expect(script.calls.length).toBe(3);
  });

  it("does not retry a call with side effects that reached the server", async () => {
    const script = scriptOf(1);
    const server = await startScriptedServer(script);
    const { client, retries } = clientFor([server.address]);

    await expect(
      client.events.updateEvent({ event: { id: eventId }, updateMask: { paths: ["title"] } }),
    ).rejects.toMatchObject({ code: Code.Unavailable });
    expect(script.calls.length).toBe(1);
    expect(retries).toEqual([]);
  });

  it.each([
    Code.InvalidArgument,
    Code.NotFound,
    Code.PermissionDenied,
    Code.Internal,
    Code.Aborted,
  ])("never retries status %s", async (code) => {
    const script = scriptOf(1, () => new ConnectError("no", code));
    const server = await startScriptedServer(script);
    const { client } = clientFor([server.address]);

    await expect(client.events.getEvent({ id: eventId })).rejects.toMatchObject({ code });
    expect(script.calls.length).toBe(1);
  });

  it("retries CreateEvent under one generated request_id, so it creates one event", async () => {
    const script = scriptOf(2);
    const server = await startScriptedServer(script);
    const { client, retries } = clientFor([server.address]);
    const request = { event: { title: "Board games" } };

    const { event } = await client.events.createEvent(request);

    expect(script.calls.length).toBe(3);
    expect(retries.length).toBe(2);
    const requestIds = new Set(script.calls.map(({ requestId }) => requestId));
    expect(requestIds.size).toBe(1);
    expect([...requestIds][0]).toMatch(uuidPattern);
    expect(event?.title).toBe("Board games");
    // The caller's request object is left as it was.
    expect(request).toEqual({ event: { title: "Board games" } });

    // A new call is a new create, with a new id.
    await client.events.createEvent(request);
    expect(new Set(script.calls.map(({ requestId }) => requestId)).size).toBe(2);
  });

  it("keeps a request_id the caller chose", async () => {
    const script = scriptOf(1);
    const server = await startScriptedServer(script);
    const { client } = clientFor([server.address]);
    const requestId = "7d444840-9dc0-11d1-b245-5ffdce74fad2";

    await client.events.createEvent({ event: { title: "Choir" }, requestId });

    expect(script.calls.map((call) => call.requestId)).toEqual([requestId, requestId]);
  });

  it("waits exactly as long as google.rpc.RetryInfo asks on RESOURCE_EXHAUSTED", async () => {
    const script = scriptOf(1, () => resourceExhausted(300));
    const server = await startScriptedServer(script);
    const { client, retries } = clientFor([server.address]);

    await client.events.getEvent({ id: eventId });

    expect(retries.map(({ delayMs }) => delayMs)).toEqual([300]);
    const [first, second] = script.calls;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(299);
    // The retry tells the server how much of the deadline is left.
    expect(second?.timeoutMs).toBeLessThanOrEqual((first?.timeoutMs ?? 0) - 290);
  });

  it("takes the server's RetryInfo delay over its own backoff on UNAVAILABLE", async () => {
    const withRetryInfo = () =>
      new ConnectError("draining", Code.Unavailable, undefined, [
        { desc: RetryInfoSchema, value: { retryDelay: durationFromMs(150) } },
      ]);
    const script = scriptOf(1, withRetryInfo);
    const server = await startScriptedServer(script);
    const { client, retries } = clientFor([server.address]);

    await client.events.getEvent({ id: eventId });

    expect(retries.map(({ delayMs }) => delayMs)).toEqual([150]);
    expect(script.calls.length).toBe(2);
  });

  it("does not retry RESOURCE_EXHAUSTED without RetryInfo", async () => {
    const script = scriptOf(1, () => resourceExhausted());
    const server = await startScriptedServer(script);
    const { client } = clientFor([server.address]);

    await expect(client.events.getEvent({ id: eventId })).rejects.toMatchObject({
      code: Code.ResourceExhausted,
    });
    expect(script.calls.length).toBe(1);
  });

  it("does not start a wait that would outlast the deadline", async () => {
    const script = scriptOf(1, () => resourceExhausted(10_000));
    const server = await startScriptedServer(script);
    const { client, retries } = clientFor([server.address], { timeoutMs: 1_000 });

    await expect(client.events.getEvent({ id: eventId })).rejects.toMatchObject({
      code: Code.ResourceExhausted,
    });
    expect(script.calls.length).toBe(1);
    expect(retries).toEqual([]);
  });

  it("resends any call that never reached a server, side effects or not", async () => {
    const script = scriptOf(0);
    const server = await startScriptedServer(script);
    const { client, retries } = clientFor([await stoppedServerAddress(), server.address]);

    const { event } = await client.events.joinEvent({ eventId });

    expect(event?.id).toBe(eventId);
    expect(script.calls.length).toBe(1);
    expect(retries.length).toBe(1);
    expect(isUnsent(retries[0]?.error as ConnectError)).toBe(true);
  });

  it("resends a server stream that never reached a server", async () => {
    const script = scriptOf(0);
    const server = await startScriptedServer(script);
    const { client, retries } = clientFor([await stoppedServerAddress(), server.address]);

    const changes = [];
    for await (const response of client.events.watchEvent({ id: eventId })) {
      changes.push(response.change.case);
    }

    expect(changes).toEqual(["snapshot"]);
    expect(retries.length).toBe(1);
    expect(script.calls.length).toBe(1);
  });

  it("resends a client stream only when it never reached a server", async () => {
    async function* rows() {
      for (const key of ["a", "b", "c"]) {
        yield { key, event: { title: key }, organizerId: eventId };
      }
    }
    const script = scriptOf(0);
    const server = await startScriptedServer(script);
    const { client, retries } = clientFor([await stoppedServerAddress(), server.address]);

    const { receivedCount } = await client.events.importEvents(rows());

    expect(receivedCount).toBe(3);
    expect(retries.length).toBe(1);

    // Once the server has read the rows, the call is never resent.
    script.failures = 1;
    const direct = clientFor([server.address]);
    await expect(direct.client.events.importEvents(rows())).rejects.toMatchObject({
      code: Code.Unavailable,
    });
    expect(script.calls.length).toBe(2);
    expect(direct.retries).toEqual([]);
  });

  it("never retries a stream once a message has arrived", async () => {
    const script: Script = { ...scriptOf(0), breakStreams: true };
    const server = await startScriptedServer(script);
    const { client, retries } = clientFor([server.address]);

    const changes: string[] = [];
    const error = await (async () => {
      for await (const response of client.events.watchEvent({ id: eventId })) {
        changes.push(response.change.case ?? "");
      }
    })().catch((reason: unknown) => reason);

    expect(changes).toEqual(["snapshot"]);
    expect(error).toMatchObject({ code: Code.Unavailable });
    expect(script.calls.length).toBe(1);
    expect(retries).toEqual([]);
  });

  it("can be turned off", async () => {
    const script = scriptOf(1);
    const server = await startScriptedServer(script);
    const { client } = clientFor([server.address], { retry: false });

    await expect(client.events.getEvent({ id: eventId })).rejects.toMatchObject({
      code: Code.Unavailable,
    });
    expect(script.calls.length).toBe(1);
  });
});
