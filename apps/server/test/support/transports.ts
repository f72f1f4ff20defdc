import type { Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";

/** One way of reaching the server: a protocol, an encoding and an HTTP version. */
export interface NamedTransport {
  name: string;
  transport: Transport;
}

/**
 * Every protocol the server speaks, as connect-node clients: gRPC over h2c, gRPC-Web and
 * Connect (JSON and binary) over HTTP/1.1 and HTTP/2. Close the returned sessions when done.
 */
export function allTransports(baseUrl: string): { transports: NamedTransport[]; close(): void } {
  const sessions: Http2SessionManager[] = [];
  const h2 = () => {
    const manager = new Http2SessionManager(baseUrl);
    sessions.push(manager);
    return manager;
  };
  const transports: NamedTransport[] = [
    { name: "gRPC (h2c)", transport: createGrpcTransport({ baseUrl, sessionManager: h2() }) },
    {
      name: "gRPC-Web (HTTP/1.1)",
      transport: createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
    },
    {
      name: "gRPC-Web (HTTP/2)",
      transport: createGrpcWebTransport({ baseUrl, httpVersion: "2", sessionManager: h2() }),
    },
    {
      name: "Connect JSON (HTTP/1.1)",
      transport: createConnectTransport({ baseUrl, httpVersion: "1.1" }),
    },
    {
      name: "Connect binary (HTTP/1.1)",
      transport: createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }),
    },
    {
      name: "Connect JSON (HTTP/2)",
      transport: createConnectTransport({ baseUrl, httpVersion: "2", sessionManager: h2() }),
    },
    {
      name: "Connect binary (HTTP/2)",
      transport: createConnectTransport({
        baseUrl,
        httpVersion: "2",
        useBinaryFormat: true,
        sessionManager: h2(),
      }),
    },
    {
      name: "Connect GET (HTTP/1.1)",
      transport: createConnectTransport({ baseUrl, httpVersion: "1.1", useHttpGet: true }),
    },
  ];
  return {
    transports,
    close: () => {
      for (const session of sessions) session.abort();
    },
  };
}
