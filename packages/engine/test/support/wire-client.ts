import type http2 from "node:http2";
import https, { type Agent } from "node:https";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { fromBinary, toJson } from "@bufbuild/protobuf";
import { ReplySchema } from "./test-service.js";

/** One HTTP/2 request as a client puts it on the wire. */
export interface WireRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** What came back, decoded so two servers' answers can be compared. */
export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  trailers: Record<string, string>;
  /** Messages, trailer frames and errors in order, decoded; or the raw text. */
  body: unknown;
  /** The HTTP/2 reset code when the stream was reset. */
  reset?: number;
}

const gunzip = promisify(zlib.gunzip);
const brotliDecompress = promisify(zlib.brotliDecompress);

/** Sends one request on `session` and collects the whole answer. */
export function send(
  session: http2.ClientHttp2Session,
  request: WireRequest,
): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": request.method,
      ":path": request.path,
      ...request.headers,
    });
    let headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => (headers = h));
    stream.on("trailers", (t) => (trailers = t));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", () => undefined);
    const timer = setTimeout(() => {
      stream.close();
      reject(new Error(`no answer to ${request.method} ${request.path}`));
    }, 5_000);
    stream.on("close", () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      decodeBody(headers, raw).then(
        (body) =>
          resolve({
            status: Number(headers[":status"] ?? 0),
            headers: flatten(headers),
            trailers: flatten(trailers),
            body,
            ...(stream.rstCode && stream.rstCode !== 0 ? { reset: stream.rstCode } : {}),
          }),
        reject,
      );
    });
    if (request.method === "GET") stream.end();
    else stream.end(request.body);
  });
}

/** Sends one request over HTTP/1.1 (TLS, keep-alive `agent`) and collects the whole answer. */
export function sendHttp1(agent: Agent, port: number, request: WireRequest): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        agent,
        host: "localhost",
        port,
        method: request.method,
        path: request.path,
        headers:
          request.method === "GET"
            ? request.headers
            : {
                ...request.headers,
                "content-length": String(request.body.byteLength),
              },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const headers = { ...res.headers };
          // Transfer framing differs by what the server knew up front; not part of the answer.
          delete headers["transfer-encoding"];
          delete headers.connection;
          delete headers["keep-alive"];
          delete headers.trailer;
          decodeBody(headers, Buffer.concat(chunks)).then(
            (body) =>
              resolve({
                status: res.statusCode ?? 0,
                headers: flatten(headers),
                trailers: flatten(res.trailers),
                body,
              }),
            reject,
          );
        });
      },
    );
    req.on("error", reject);
    req.setTimeout(5_000, () => req.destroy(new Error(`no answer to ${request.path}`)));
    if (request.method === "GET") req.end();
    else req.end(request.body);
  });
}

function flatten(headers: http2.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (key.startsWith(":") || key === "date" || value === undefined) continue;
    flat[key] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return flat;
}

async function decompress(encoding: string | undefined, data: Buffer): Promise<Buffer> {
  if (encoding === "gzip") return gunzip(data);
  if (encoding === "br") return brotliDecompress(data);
  return data;
}

function decodeMessage(data: Uint8Array, json: boolean): unknown {
  try {
    return json
      ? JSON.parse(Buffer.from(data).toString("utf8"))
      : toJson(ReplySchema, fromBinary(ReplySchema, data));
  } catch {
    return { undecodable: Buffer.from(data).toString("hex") };
  }
}

async function decodeBody(headers: http2.IncomingHttpHeaders, raw: Buffer): Promise<unknown> {
  const type = String(headers["content-type"] ?? "");
  const json = type.includes("json");
  try {
    if (/^application\/(grpc|grpc-web|connect\+)/.test(type)) {
      const encoding = (headers["grpc-encoding"] ?? headers["connect-content-encoding"]) as
        | string
        | undefined;
      const frames: unknown[] = [];
      let offset = 0;
      while (offset + 5 <= raw.length) {
        const flags = raw[offset] as number;
        const length = raw.readUInt32BE(offset + 1);
        let data = raw.subarray(offset + 5, offset + 5 + length);
        offset += 5 + length;
        if (flags & 1) data = await decompress(encoding, data);
        if (flags & 0x80) frames.push({ trailer: data.toString("utf8").split("\r\n").sort() });
        else if (flags & 0x02) frames.push({ end: JSON.parse(data.toString("utf8")) });
        else frames.push(decodeMessage(data, json));
      }
      if (offset !== raw.length) frames.push({ leftover: raw.length - offset });
      return frames;
    }
    const data = await decompress(headers["content-encoding"] as string | undefined, raw);
    if (type === "application/proto") return decodeMessage(data, false);
    if (json) return JSON.parse(data.toString("utf8"));
    return data.toString("utf8");
  } catch (error) {
    return { undecodable: String(error), hex: raw.toString("hex") };
  }
}
