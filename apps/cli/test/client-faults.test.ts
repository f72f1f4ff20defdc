import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { type ImportEventsRequest, ImportEventsRequestSchema } from "@grouppe/api";
import {
  type CircuitStateChange,
  createGrouppeClient,
  type GrouppeClient,
  type GrouppeClientOptions,
  type RetryEvent,
} from "@grouppe/client";
import { eventually } from "@grouppe/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CertificateFiles, tlsEnv, writeCertificates } from "./support/certificates.js";
import { type ServerProcess, startServerProcess } from "./support/server-process.js";
import { createTestDatabase, type TestDatabase } from "./support/test-database.js";

// The @grouppe/client SDK against real server processes on real ports: one runs throughout, a
// second is started late and restarted. Both share one database, as instances in production do.
let dir: string;
let certs: CertificateFiles;
let database: TestDatabase;
let first: ServerProcess;
let second: ServerProcess | undefined;
let secondPort: number;
let ca: Buffer;
let eventId = "";
const clients: GrouppeClient[] = [];

function client(options: Partial<GrouppeClientOptions> & { addresses: string[] }): GrouppeClient {
  const made = createGrouppeClient({ tls: { ca }, ...options });
  clients.push(made);
  return made;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "grouppe-faults-"));
  [certs, database, secondPort] = await Promise.all([
    writeCertificates(join(dir, "certs")),
    createTestDatabase(),
    freePort(),
  ]);
  ca = await readFile(certs.ca);
  first = await startServerProcess({ tls: true, env: { ...database.env, ...tlsEnv(certs) } });
  const setup = client({ addresses: [first.address] });
  const { session } = await setup.auth.signUp({
    email: "ada@example.com",
    password: "correct horse",
    displayName: "Ada",
  });
  const { event } = await setup.events.createEvent(
    {
      event: {
        title: "Picnic",
        startsAt: timestampFromDate(new Date("2030-06-01T12:00:00Z")),
        endsAt: timestampFromDate(new Date("2030-06-01T15:00:00Z")),
        timeZone: "Europe/Berlin",
        location: { kind: { case: "address", value: "Stadtpark" } },
      },
    },
    { headers: { authorization: `Bearer ${session?.accessToken}` } },
  );
  eventId = event?.id ?? "";
});

afterAll(async () => {
  for (const made of clients) made.close();
  await second?.close();
  await first?.close();
  await database?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const secondAddress = () => `https://localhost:${secondPort}`;

describe("@grouppe/client against real server processes", () => {
  it("serves every call through the live address while the other is down; the dead one's breaker opens, half-opens and closes once it is back", async () => {
    const changes: CircuitStateChange[] = [];
    const retries: RetryEvent[] = [];
    const sdk = client({
      addresses: [first.address, secondAddress()],
      circuitBreaker: {
        failureThreshold: 3,
        coolDownMs: 300,
        onStateChange: (c) => changes.push(c),
      },
      retry: { initialBackoffMs: 10, onRetry: (event) => retries.push(event) },
    });
    const secondStates = () =>
      changes.filter((c) => c.address === secondAddress()).map((c) => c.state);

    for (let i = 0; i < 20; i++) {
      const { event } = await sdk.events.getEvent({ id: eventId });
      expect(event?.title).toBe("Picnic");
    }
    expect(secondStates()[0]).toBe("open");
    expect(sdk.status().map((s) => s.circuit)).toEqual(["closed", "open"]);
    // Each attempt at the dead address was resent to the live one.
    expect(retries.length).toBeGreaterThanOrEqual(3);
    expect(retries.every((r) => r.error.code === Code.Unavailable)).toBe(true);

    second = await startServerProcess({
      tls: true,
      port: secondPort,
      env: { ...database.env, ...tlsEnv(certs) },
    });
    for (let calls = 0; secondStates().at(-1) !== "closed"; calls++) {
      expect(calls).toBeLessThan(500);
      const { event } = await sdk.events.getEvent({ id: eventId });
      expect(event?.title).toBe("Picnic");
      await sleep(10);
    }
    expect(secondStates().slice(-2)).toEqual(["half-open", "closed"]);
    expect(changes.filter((c) => c.address === first.address)).toEqual([]);
  });

  it("completes 1,000 reads within their deadlines while the server process restarts", async () => {
    const server = second;
    if (server === undefined) throw new Error("the second server is not running");
    const retries: RetryEvent[] = [];
    const sdk = client({
      addresses: [server.address],
      retry: {
        // Enough attempts and time to outlast a slow start on a loaded machine; the deadline
        // of each read is the bound that matters.
        maxAttempts: 200,
        maxElapsedMs: 20_000,
        initialBackoffMs: 20,
        maxBackoffMs: 250,
        onRetry: (event) => retries.push(event),
      },
      circuitBreaker: { failureThreshold: 5, coolDownMs: 250 },
    });
    let done = 0;
    let restarted: Promise<void> | undefined;
    const read = async () => {
      const { event } = await sdk.events.getEvent({ id: eventId }, { timeoutMs: 20_000 });
      expect(event?.id).toBe(eventId);
      done++;
      // A quarter of the way in, a graceful restart (SIGTERM, then a new process).
      if (done === 250) {
        restarted = server.stop().then(() => server.start());
        // Awaited below; a failed start must not also surface as unhandled meanwhile.
        restarted.catch(() => undefined);
      }
    };
    // Ten reads in flight at a time, like a busy service.
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < 1_000) {
          next++;
          await read();
        }
      }),
    );
    await restarted;
    expect(done).toBe(1_000);
    expect(retries.length).toBeGreaterThan(0);
  });

  it("ends a call whose deadline passes with DEADLINE_EXCEEDED, and the server drops its work", async () => {
    const sdk = client({
      addresses: [first.address],
      tls: { ca, cert: await readFile(certs.client), key: await readFile(certs.clientKey) },
    });
    const organizerId = (await sdk.events.getEvent({ id: eventId })).event?.organizer?.userId;
    async function* slowRows(): AsyncGenerator<ImportEventsRequest> {
      for (let i = 0; i < 3; i++) {
        yield create(ImportEventsRequestSchema, {
          key: `late-${i}`,
          organizerId,
          event: {
            title: `Too late ${i}`,
            startsAt: timestampFromDate(new Date("2030-06-02T12:00:00Z")),
            endsAt: timestampFromDate(new Date("2030-06-02T13:00:00Z")),
            timeZone: "UTC",
            location: { kind: { case: "address", value: "Nowhere" } },
          },
        });
      }
      // The rest of the file never comes: only the deadline can end this call.
      await new Promise<never>(() => {});
    }

    const error = await sdk.events
      .importEvents(slowRows(), { timeoutMs: 500 })
      .catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.DeadlineExceeded);

    // The server ended the call itself, and nothing of the rows it had received was written.
    await eventually(
      () => first.logs.some((entry) => entry.rpc === "grouppe.v1.EventService/ImportEvents"),
      { what: "the server logged the end of the import" },
    );
    const ended = first.logs.find((entry) => entry.rpc === "grouppe.v1.EventService/ImportEvents");
    expect(ended?.code).toMatch(/^(DeadlineExceeded|Canceled)$/);
    // The handler has ended: whatever it would have written is written by now.
    const { events } = await sdk.events.listEvents({ query: "Too late" });
    expect(events).toEqual([]);
  });
});
