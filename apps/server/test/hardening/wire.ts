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

/** A Connect JSON call over HTTP/1.1, with a bearer token when given: its status and body. */
export async function connectJson(
  url: string,
  path: string,
  body: unknown,
  token = "",
): Promise<{ status: number; json: never; text: string }> {
  const answer = await h1(url, {
    path,
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = answer.body.toString("utf8");
  return { status: answer.status, json: JSON.parse(text) as never, text };
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

/** gRPC status codes by name, as the wire carries them. */
export const grpcCode = {
  internal: 13,
  invalid_argument: 3,
  resource_exhausted: 8,
  unauthenticated: 16,
} as const;
export type CodeName = keyof typeof grpcCode;

/**
 * Request bodies that are not a ListEventsRequest in binary protobuf, by what is wrong with
 * them: every decoder must refuse them, and the caller is the one at fault.
 */
export const malformedListEventsRequests: Record<string, Buffer> = {
  // page_size (field 1) as a varint that runs past ten bytes.
  "a varint past ten bytes": Buffer.from([
    0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
  ]),
  // page_token (field 2) announces 127 bytes; one follows.
  "a truncated message": Buffer.from([0x12, 0x7f, 0x41]),
  // A tag whose varint ends after its first byte.
  "a truncated tag": Buffer.from([0xff]),
  // query (field 6): "A", then 0xe9 without its continuation byte.
  "a string of invalid UTF-8": Buffer.from([0x32, 0x03, 0x41, 0xe9, 0x28]),
};

/** The Connect code of a Connect answer ("ok" for 200). */
export function connectCode(answer: RawAnswer): string {
  if (answer.status === 200) return "ok";
  return (JSON.parse(answer.body.toString("utf8")) as { code: string }).code;
}

/**
 * The same request message over every protocol and HTTP version it is served on, by label
 * ("grpc+proto h2"), as the code name each answered with. A body left out skips its encoding.
 */
export async function everyProtocol(
  baseUrl: string,
  path: string,
  message: { json?: Buffer | string; binary?: Buffer },
  extraHeaders: Record<string, string> = {},
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const name = (status: number | undefined) =>
    Object.entries(grpcCode).find(([, c]) => c === status)?.[0] ?? `grpc-status ${status}`;
  const wire: [string, "h1" | "h2", string, Buffer | string | undefined][] = [
    ["connect+json h1", "h1", "application/json", message.json],
    ["connect+json h2", "h2", "application/json", message.json],
    ["connect+proto h1", "h1", "application/proto", message.binary],
    ["connect+proto h2", "h2", "application/proto", message.binary],
  ];
  for (const [label, version, contentType, body] of wire) {
    if (body === undefined) continue;
    const call = version === "h1" ? h1 : h2;
    out[label] = connectCode(
      await call(baseUrl, {
        path,
        headers: { "content-type": contentType, ...extraHeaders },
        body,
      }),
    );
  }
  const enveloped: [string, "h1" | "h2", string, Buffer | string | undefined][] = [
    ["grpc-web+json h1", "h1", "application/grpc-web+json", message.json],
    ["grpc-web+proto h1", "h1", "application/grpc-web+proto", message.binary],
    ["grpc+json h2", "h2", "application/grpc+json", message.json],
    ["grpc+proto h2", "h2", "application/grpc+proto", message.binary],
  ];
  for (const [label, version, contentType, body] of enveloped) {
    if (body === undefined) continue;
    const call = version === "h1" ? h1 : h2;
    const answer = await call(baseUrl, {
      path,
      headers: { "content-type": contentType, te: "trailers", ...extraHeaders },
      body: envelope(Buffer.from(body)),
    });
    out[label] = name(grpcStatus(answer));
  }
  return out;
}

/** `result` with every label mapped to `code`: what a test expects when all must agree. */
export function allOf(result: Record<string, string>, code: string): Record<string, string> {
  return Object.fromEntries(Object.keys(result).map((key) => [key, code]));
}
