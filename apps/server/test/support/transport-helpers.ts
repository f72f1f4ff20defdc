import { execFile } from "node:child_process";
import net from "node:net";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type HealthCheckRequest,
  HealthCheckRequestSchema,
  type HealthCheckResponse,
  HealthCheckResponseSchema,
} from "@grouppe/api/health";
import * as grpc from "@grpc/grpc-js";

/** One HTTP exchange as curl saw it. */
export interface CurlResponse {
  /** "1.1" or "2", from the status line. */
  httpVersion: string;
  status: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
}

/**
 * Runs the curl binary (a client nobody can accuse of sharing our code) and parses the last
 * response it printed. `args` come before the URL; `-sS -i` and a time limit are added.
 */
export function curl(url: string, args: string[] = []): Promise<CurlResponse> {
  return new Promise((resolve, reject) => {
    execFile(
      "curl",
      ["-sS", "-i", "--max-time", "20", ...args, url],
      { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`curl ${args.join(" ")} ${url} failed: ${stderr || error.message}`));
          return;
        }
        resolve(parseCurlOutput(stdout));
      },
    );
  });
}

function parseCurlOutput(output: string): CurlResponse {
  // With -i, interim responses (100 Continue) come first; the last header block is the answer.
  let rest = output;
  for (;;) {
    const end = rest.indexOf("\r\n\r\n");
    const head = end === -1 ? rest : rest.slice(0, end);
    const body = end === -1 ? "" : rest.slice(end + 4);
    const [statusLine = "", ...lines] = head.split("\r\n");
    const match = /^HTTP\/([\d.]+) (\d{3})/.exec(statusLine);
    if (!match)
      throw new Error(`curl printed no status line: ${JSON.stringify(output.slice(0, 200))}`);
    const status = Number(match[2]);
    if (status >= 100 && status < 200 && /^HTTP\//.test(body)) {
      rest = body;
      continue;
    }
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    return { httpVersion: match[1] ?? "", status, headers, body };
  }
}

const serializeRequest = (message: HealthCheckRequest) =>
  Buffer.from(toBinary(HealthCheckRequestSchema, message));
const deserializeResponse = (bytes: Buffer) => fromBinary(HealthCheckResponseSchema, bytes);

/**
 * grpc.health.v1 through @grpc/grpc-js, the reference Node gRPC client, with messages encoded
 * by @bufbuild/protobuf. `address` is host:port.
 */
export class GrpcJsHealthClient {
  private readonly client: grpc.Client;

  constructor(
    address: string,
    credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  ) {
    this.client = new grpc.Client(address, credentials);
  }

  /** Calls Check; resolves with the response and the response metadata's x-request-id. */
  check(
    service: string,
    requestId?: string,
  ): Promise<{ response: HealthCheckResponse; requestId: string | undefined }> {
    const metadata = new grpc.Metadata();
    if (requestId) metadata.set("x-request-id", requestId);
    return new Promise((resolve, reject) => {
      let echoed: string | undefined;
      const call = this.client.makeUnaryRequest(
        "/grpc.health.v1.Health/Check",
        serializeRequest,
        deserializeResponse,
        { $typeName: "grpc.health.v1.HealthCheckRequest", service } as HealthCheckRequest,
        metadata,
        { deadline: Date.now() + 20_000 },
        (error, response) => {
          if (error || !response) reject(error ?? new Error("no response"));
          else resolve({ response, requestId: echoed });
        },
      );
      call.on("metadata", (received: grpc.Metadata) => {
        echoed = received.get("x-request-id")[0]?.toString();
      });
    });
  }

  /** Starts Watch; the stream emits "data" with each HealthCheckResponse. */
  watch(service: string): grpc.ClientReadableStream<HealthCheckResponse> {
    return this.client.makeServerStreamRequest(
      "/grpc.health.v1.Health/Watch",
      serializeRequest,
      deserializeResponse,
      { $typeName: "grpc.health.v1.HealthCheckRequest", service } as HealthCheckRequest,
    );
  }

  close(): void {
    this.client.close();
  }
}

/**
 * A TCP proxy on 127.0.0.1 that delays every byte by `delayMs` in both directions, keeping
 * order: a network with a round trip, on loopback. Resolves with its port and a close().
 */
export async function startLatencyProxy(
  targetPort: number,
  delayMs: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const delayed = (from: net.Socket, to: net.Socket) => {
    from.on("data", (chunk: Buffer) => {
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
      }, delayMs);
    });
    // A side that ended cleanly is ended on the other side once its last bytes are through;
    // destroying it as well would throw away what is still queued to be written (a response
    // sent with `Connection: close`, under load). Only a side cut short is cut short across.
    let ended = false;
    from.on("end", () => {
      ended = true;
      setTimeout(() => to.end(), delayMs);
    });
    from.on("close", () =>
      setTimeout(() => {
        if (!ended) to.destroy();
      }, delayMs),
    );
    from.on("error", () => undefined);
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    }
    delayed(client, upstream);
    delayed(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no port");
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
