import http from "node:http";
import http2 from "node:http2";
import net from "node:net";

/** One answer as the wire carried it: HTTP status, headers, trailers and body. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  trailers: Record<string, string>;
  body: Buffer;
}

/** The grpc-status of a gRPC / gRPC-Web answer (trailers, or headers for a trailers-only one). */
export function grpcStatus(answer: RawAnswer): number | undefined {
  const raw = answer.trailers["grpc-status"] ?? answer.headers["grpc-status"];
  if (raw !== undefined) return Number(raw);
  // gRPC-Web carries its trailers in the body, in a frame flagged 0x80.
  const body = answer.body;
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    if ((body[at] ?? 0) & 0x80) {
      const text = body.subarray(at + 5, at + 5 + length).toString("latin1");
      const match = /grpc-status:\s*(\d+)/i.exec(text);
      return match ? Number(match[1]) : undefined;
    }
    at += 5 + length;
  }
  return undefined;
}

/** A length-prefixed message of gRPC and gRPC-Web (flag 0: uncompressed). */
export function envelope(message: Uint8Array, flags = 0): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

function flat(
  headers: http.IncomingHttpHeaders | http2.IncomingHttpHeaders,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return out;
}

/** One HTTP/1.1 request on a new connection. */
export function h1(
  url: string,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
  },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${url}${options.path}`,
      { method: options.method ?? "POST", headers: options.headers, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: flat(response.headers),
            trailers: {},
            body: Buffer.concat(chunks),
          }),
        );
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.setTimeout(10_000, () => request.destroy(new Error("no answer in 10 s")));
    request.end(options.body);
  });
}

/** One HTTP/2 request on a new h2c connection. */
export function h2(
  url: string,
  options: { path: string; headers?: Record<string, string>; body?: Buffer | string },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on("error", reject);
    const stream = session.request({
      ":method": "POST",
      ":path": options.path,
      ...options.headers,
    });
    let headers: Record<string, string> = {};
    let trailers: Record<string, string> = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      headers = flat(h);
    });
    stream.on("trailers", (t) => {
      trailers = flat(t);
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", reject);
    stream.on("close", () => {
      session.close();
      resolve({
        status: Number(headers[":status"] ?? 0),
        headers,
        trailers,
        body: Buffer.concat(chunks),
      });
    });
    stream.setTimeout(10_000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    stream.end(options.body);
  });
}

/**
 * Opens a TCP connection, writes `chunks` with `gapMs` between them, and resolves with what the
 * server sent and how long until it closed the connection (or `giveUpMs` passed: -1).
 */
export function rawSocket(
  port: number,
  chunks: readonly (Buffer | string)[],
  options: { gapMs?: number; giveUpMs: number },
): Promise<{ received: Buffer; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect(port, "127.0.0.1");
    const received: Buffer[] = [];
    let index = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (closedAfterMs: number) => {
      clearTimeout(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ received: Buffer.concat(received), closedAfterMs });
    };
    const writeNext = () => {
      if (socket.destroyed || index >= chunks.length) return;
      socket.write(chunks[index++] as Buffer | string);
      timer = setTimeout(writeNext, options.gapMs ?? 0);
    };
    const giveUp = setTimeout(() => finish(-1), options.giveUpMs);
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => finish(performance.now() - started));
    socket.on("connect", writeNext);
  });
}

/** An HTTP/2 frame: 9-byte header, then the payload. */
export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** The client connection preface: the magic string and an empty SETTINGS frame. */
export const h2Preface = Buffer.concat([
  Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"),
  frame(0x4, 0, 0),
]);
