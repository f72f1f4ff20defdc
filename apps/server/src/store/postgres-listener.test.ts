import net from "node:net";
import { eventually, postgresAvailable } from "@grouppe/testkit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresListener } from "./postgres-listener.js";

const postgres = await postgresAvailable();

/**
 * A TCP relay to PostgreSQL that can go silent: `freeze()` stops forwarding on every open
 * connection without closing it, as a dead network or an expired NAT entry does. New
 * connections pass as before.
 */
function silenceableRelay(target: URL) {
  const pairs: net.Socket[][] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    client.pipe(upstream).on("error", () => undefined);
    upstream.pipe(client).on("error", () => undefined);
    client.on("error", () => undefined);
    upstream.on("error", () => undefined);
    pairs.push([client, upstream]);
  });
  return {
    server,
    freeze() {
      for (const [client, upstream] of pairs.splice(0)) {
        if (!client || !upstream) continue;
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
        frozen.push(client, upstream);
      }
    },
    async close() {
      for (const socket of [...frozen, ...pairs.flat()]) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
const frozen: net.Socket[] = [];

describe.skipIf("skip" in postgres)("PostgresListener on a connection that dies silently", () => {
  const url = new URL("url" in postgres ? postgres.url : "postgres://localhost/none");
  let relay: ReturnType<typeof silenceableRelay>;
  let relayedUrl: URL;

  beforeAll(async () => {
    relay = silenceableRelay(url);
    await new Promise<void>((resolve) => relay.server.listen(0, "127.0.0.1", resolve));
    relayedUrl = new URL(url);
    relayedUrl.hostname = "127.0.0.1";
    relayedUrl.port = String((relay.server.address() as net.AddressInfo).port);
  });

  afterAll(async () => {
    await relay?.close();
  });

  it("notices by its probe, reconnects and delivers notifications again", async () => {
    const errors: string[] = [];
    let reconnected: () => void = () => undefined;
    const reconnect = new Promise<void>((resolve) => {
      reconnected = resolve;
    });
    const received: string[] = [];
    const listener = new PostgresListener({
      connection: { connectionString: relayedUrl.toString() },
      reconnectDelayMs: { initial: 20, max: 50 },
      probe: { intervalMs: 100, timeoutMs: 200 },
      onError: (_error, what) => errors.push(what),
    });
    const channel = "grouppe_probe_test";
    await listener.listen(
      channel,
      (payload) => received.push(payload),
      () => reconnected(),
    );
    const sender = new pg.Client({ connectionString: url.toString() });
    await sender.connect();
    try {
      relay.freeze();
      await reconnect;
      expect(errors).toContain("the LISTEN connection dropped");
      await sender.query(`NOTIFY ${channel}, 'after the freeze'`);
      await eventually(() => received.length > 0, { what: "the notice sent after the freeze" });
      expect(received).toEqual(["after the freeze"]);
    } finally {
      await sender.end();
      await listener.close();
    }
  }, 30_000);
});
