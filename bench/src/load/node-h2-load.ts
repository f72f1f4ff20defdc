import http2 from "node:http2";
import { driveLoad } from "./drive-load.js";
import type { LoadResult, LoadSpec, RequestTemplate } from "./load-spec.js";
import { classifyResponse, templateBody } from "./rpc-protocol.js";

/** Opens an h2c session and waits for the server's SETTINGS, or fails within `timeoutMs`. */
export function connectH2c(url: string, timeoutMs = 10_000): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`no HTTP/2 session with ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    session.once("remoteSettings", () => {
      clearTimeout(timer);
      resolve(session);
    });
    session.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

interface PreparedRequest {
  headers: http2.OutgoingHttpHeaders;
  body: Buffer;
}

/**
 * The built-in HTTP/2 load generator: `connections` h2c sessions with
 * `streamsPerConnection` concurrent streams each.
 */
export async function runNodeH2Load(spec: LoadSpec): Promise<LoadResult> {
  const sessions = await Promise.all(
    Array.from({ length: spec.connections }, () => connectH2c(spec.url)),
  );
  const prepared = new Map<RequestTemplate, PreparedRequest>();
  for (const template of spec.requests) {
    prepared.set(template, {
      headers: { ":method": "POST", ":path": template.path, ...template.headers },
      body: templateBody(template),
    });
  }
  const sessionFor = async (slot: number) => {
    const index = slot % sessions.length;
    const session = sessions[index];
    if (session && !session.closed && !session.destroyed) return session;
    const fresh = await connectH2c(spec.url);
    sessions[index] = fresh;
    return fresh;
  };

  const sendOne = async (template: RequestTemplate, slot: number): Promise<string> => {
    const request = prepared.get(template);
    if (!request) return "unknown_template";
    let session: http2.ClientHttp2Session;
    try {
      session = await sessionFor(slot);
    } catch {
      return "connect_failed";
    }
    return new Promise((resolve) => {
      let status = 0;
      let headers: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders | undefined;
      const chunks: Buffer[] = [];
      const stream = session.request(request.headers);
      stream.on("response", (received) => {
        headers = received;
        status = Number(received[":status"]);
      });
      stream.on("trailers", (received) => {
        trailers = received;
      });
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", () => {});
      stream.on("close", () => {
        if (status === 0) {
          resolve(`stream_reset_${stream.rstCode ?? "unknown"}`);
          return;
        }
        resolve(classifyResponse(spec.protocol, status, headers, trailers, Buffer.concat(chunks)));
      });
      stream.end(request.body);
    });
  };

  try {
    return await driveLoad(spec, sendOne);
  } finally {
    for (const session of sessions) session.destroy();
  }
}
