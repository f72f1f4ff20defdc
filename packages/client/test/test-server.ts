import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { TLSSocket } from "node:tls";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { TestIdentity } from "@grouppe/testkit";

/** Makes the server require a client certificate signed by `ca` (mTLS). */
export interface TestServerTls extends TestIdentity {
  ca: string;
}

/**
 * A real connect-node gRPC server over HTTP/2 on a free port of 127.0.0.1 that a test can stop
 * (like a crashed instance) and start again on the same port.
 */
export interface TestServer {
  /** The base URL to give the client. */
  readonly address: string;
  /** HTTP/2 sessions (connections) accepted so far. */
  readonly sessions: number;
  /** HTTP/2 PING frames received so far. */
  readonly pings: number;
  /** The subject CN of each verified client certificate, one per session (TLS only). */
  readonly clientNames: readonly string[];
  /** Whether the server currently accepts connections. */
  readonly running: boolean;
  /** Closes the listener and drops every connection at once. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
}

/** Starts a server with the given routes; pass `tls` for HTTPS with client certificates. */
export async function startTestServer(
  routes: (router: ConnectRouter) => void,
  tls?: TestServerTls,
): Promise<TestServer> {
  const handler = connectNodeAdapter({ routes });
  const server = tls
    ? http2.createSecureServer({ ...tls, requestCert: true, rejectUnauthorized: true }, handler)
    : http2.createServer(handler);
  const live = new Set<http2.ServerHttp2Session>();
  let sessions = 0;
  let pings = 0;
  let running = false;
  const clientNames: string[] = [];
  server.on("session", (session) => {
    sessions++;
    live.add(session);
    session.on("ping", () => pings++);
    if (session.socket instanceof TLSSocket) {
      const name = session.socket.getPeerCertificate().subject?.CN;
      if (name !== undefined) clientNames.push(String(name));
    }
    session.on("close", () => live.delete(session));
  });

  async function listen(port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    running = true;
    return (server.address() as AddressInfo).port;
  }

  const port = await listen(0);
  return {
    address: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    get sessions() {
      return sessions;
    },
    get pings() {
      return pings;
    },
    get clientNames() {
      return clientNames;
    },
    get running() {
      return running;
    },
    async stop() {
      if (!running) return;
      running = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of live) session.destroy();
      await closed;
    },
    async restart() {
      await listen(port);
    },
  };
}
