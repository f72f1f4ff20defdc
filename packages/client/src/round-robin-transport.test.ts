import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { EventService } from "@grouppe/api";
import { Health, HealthCheckResponse_ServingStatus } from "@grouppe/api/health";
import { eventually } from "@grouppe/testkit";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startTestServer, type TestServer } from "../test/test-server.js";
import { isFinal } from "./client-errors.js";
import {
  createGrouppeClient,
  type GrouppeClient,
  type GrouppeClientOptions,
} from "./create-grouppe-client.js";

/**
 * A server that counts the calls of its health check and of GetEvent (which, unlike the health
 * check, is declared free of side effects, so it is retried); both can be made to answer
 * UNAVAILABLE.
 */
async function startHealthServer() {
  const state = { checks: 0, unavailable: false };
  const server = await startTestServer((router: ConnectRouter) => {
    router.service(Health, {
      check() {
        state.checks++;
        if (state.unavailable) throw new ConnectError("draining", Code.Unavailable);
        return { status: HealthCheckResponse_ServingStatus.SERVING };
      },
    });
    router.service(EventService, {
      getEvent(request) {
        state.checks++;
        if (state.unavailable) throw new ConnectError("draining", Code.Unavailable);
        return { event: { id: request.id, title: "Picnic" } };
      },
    });
  });
  return Object.assign(state, { server });
}

type HealthServer = Awaited<ReturnType<typeof startHealthServer>>;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startHealthServers(count: number): Promise<HealthServer[]> {
  const servers: HealthServer[] = [];
  for (let i = 0; i < count; i++) {
    const started = await startHealthServer();
    cleanups.push(() => started.server.stop());
    servers.push(started);
  }
  return servers;
}

function clientFor(
  servers: { server: TestServer }[],
  options: Partial<GrouppeClientOptions> = {},
): GrouppeClient {
  const client = createGrouppeClient({
    addresses: servers.map(({ server }) => server.address),
    ...options,
  });
  cleanups.push(() => client.close());
  return client;
}

async function checkTimes(client: GrouppeClient, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const { status } = await client.health.check({});
    expect(status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  }
}

describe("round-robin transport", () => {
  it("spreads calls evenly over the addresses and over each address's pooled sessions", async () => {
    const servers = await startHealthServers(3);
    const client = clientFor(servers, { connectionsPerAddress: 3 });

    await checkTimes(client, 9);
    await Promise.all(Array.from({ length: 9 }, () => client.health.check({})));

    expect(servers.map(({ checks }) => checks)).toEqual([6, 6, 6]);
    // Six calls per address over three sessions: each session opened once and reused.
    expect(servers.map(({ server }) => server.sessions)).toEqual([3, 3, 3]);
    expect(client.status().map(({ connections }) => connections.length)).toEqual([3, 3, 3]);
    expect(client.status().map(({ circuit }) => circuit)).toEqual(["closed", "closed", "closed"]);
  });

  it("keeps the sessions alive with PING frames", async () => {
    const [server] = await startHealthServers(1);
    if (!server) throw new Error("no server");
    const client = clientFor([server], {
      connectionsPerAddress: 1,
      keepalive: { pingIntervalMs: 20, pingIdleConnection: true },
    });

    await checkTimes(client, 1);
    await eventually(() => server.server.pings >= 3, { what: "the server received three PINGs" });

    expect(server.server.sessions).toBe(1);
    expect(client.status()[0]?.connection).toMatch(/^(idle|open|verifying)$/);
  });

  it("skips a stopped server once its circuit opens and returns to it after the cool-down", async () => {
    const [first, second] = await startHealthServers(2);
    if (!first || !second) throw new Error("no servers");
    const retries: string[] = [];
    // The breakers read the cool-down off Date; frozen here, it passes only when the test says,
    // while the wire and the retries' timers run for real.
    vi.useFakeTimers({ toFake: ["Date"] });
    const client = clientFor([first, second], {
      circuitBreaker: { failureThreshold: 2, coolDownMs: 300 },
      retry: { initialBackoffMs: 5, onRetry: ({ procedure }) => retries.push(procedure) },
    });
    await checkTimes(client, 4);
    expect([first.checks, second.checks]).toEqual([2, 2]);

    await first.server.stop();
    for (let calls = 0; client.status()[0]?.circuit !== "open"; calls++) {
      expect(calls).toBeLessThan(10);
      // Every call still succeeds: the attempt that could not reach the stopped server is
      // resent to the other one.
      await checkTimes(client, 1);
    }
    expect(retries.length).toBe(2);

    const secondBefore = second.checks;
    await checkTimes(client, 6);
    expect(second.checks - secondBefore).toBe(6);
    // No call even tried the stopped server while its circuit was open.
    expect(retries.length).toBe(2);

    await first.server.restart();
    vi.setSystemTime(Date.now() + 300);
    // Round robin picks the first server again within two calls: the trial call.
    await checkTimes(client, 2);
    expect(first.checks).toBe(3);
    // The trial call succeeded, so the circuit closed again.
    expect(client.status()[0]?.circuit).toBe("closed");

    const before = [first.checks, second.checks];
    await checkTimes(client, 4);
    expect([first.checks - (before[0] ?? 0), second.checks - (before[1] ?? 0)]).toEqual([2, 2]);
  });

  it("stops sending to a server that keeps answering UNAVAILABLE", async () => {
    const [failing, healthy] = await startHealthServers(2);
    if (!failing || !healthy) throw new Error("no servers");
    failing.unavailable = true;
    const client = clientFor([failing, healthy], {
      circuitBreaker: { failureThreshold: 3, coolDownMs: 60_000 },
      retry: { initialBackoffMs: 5 },
    });

    // GetEvent has no side effects, so each UNAVAILABLE answer is retried elsewhere.
    for (let i = 0; i < 10; i++) {
      const { event } = await client.events.getEvent({ id: `event-${i}` });
      expect(event?.id).toBe(`event-${i}`);
    }

    expect(failing.checks).toBe(3);
    expect(healthy.checks).toBe(10);
    expect(client.status().map(({ circuit }) => circuit)).toEqual(["open", "closed"]);
  });

  it("fails fast with UNAVAILABLE when every circuit is open", async () => {
    const [server] = await startHealthServers(1);
    if (!server) throw new Error("no server");
    let retries = 0;
    const client = clientFor([server], {
      circuitBreaker: { failureThreshold: 2, coolDownMs: 60_000 },
      retry: { initialBackoffMs: 5, onRetry: () => retries++ },
    });
    await server.server.stop();

    await expect(client.health.check({})).rejects.toMatchObject({ code: Code.Unavailable });
    expect(client.status()[0]?.circuit).toBe("open");

    const retriesBefore = retries;
    const error = await client.health.check({}).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unavailable);
    expect((error as ConnectError).rawMessage).toMatch(/all 1 grouppe addresses are unavailable/);
    expect(isFinal(error as ConnectError)).toBe(true);
    expect(retries).toBe(retriesBefore);
  });

  it("lets a call wait out the cool-down when every circuit is open and its deadline allows", async () => {
    const [server] = await startHealthServers(1);
    if (!server) throw new Error("no server");
    const states: string[] = [];
    const client = clientFor([server], {
      circuitBreaker: {
        failureThreshold: 2,
        coolDownMs: 300,
        onStateChange: ({ state }) => states.push(state),
      },
      retry: { initialBackoffMs: 5, maxAttempts: 10 },
    });
    await server.server.stop();
    await expect(client.health.check({}, { timeoutMs: 100 })).rejects.toMatchObject({
      code: Code.Unavailable,
    });
    expect(states).toEqual(["open"]);

    await server.server.restart();
    const { status } = await client.health.check({}, { timeoutMs: 5_000 });
    expect(status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect(states).toEqual(["open", "half-open", "closed"]);
  });

  it("fails calls made after close with CANCELED", async () => {
    const servers = await startHealthServers(1);
    const client = clientFor(servers);
    await checkTimes(client, 1);

    client.close();

    await expect(client.health.check({})).rejects.toMatchObject({ code: Code.Canceled });
    expect(servers[0]?.checks).toBe(1);
  });
});
