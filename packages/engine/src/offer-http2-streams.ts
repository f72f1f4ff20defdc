import type {
  Http2SecureServer,
  Http2Server,
  IncomingHttpHeaders,
  ServerHttp2Session,
  ServerHttp2Stream,
} from "node:http2";

/**
 * Takes a new HTTP/2 stream before Node's compatibility layer and Fastify see it: true when
 * it serves the stream, false to leave the stream to the server as usual.
 */
export type Http2StreamHandler = (
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
) => boolean;

type StreamListener = (
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  flags: number,
  rawHeaders: string[],
) => void;

/**
 * Offers every new stream of `server` to `handler` first. Node hands a session's streams to
 * the server (hence to the compatibility request and response, and Fastify) through the
 * session's own 'stream' listener; that listener is put behind the handler, so it sees only
 * the streams the handler declines.
 */
export function offerHttp2Streams(
  server: Http2Server | Http2SecureServer,
  handler: Http2StreamHandler,
): void {
  server.on("session", (session: ServerHttp2Session) => {
    const forward = session.listeners("stream") as StreamListener[];
    session.removeAllListeners("stream");
    session.on("stream", (stream, headers, flags, rawHeaders) => {
      if (handler(stream, headers)) return;
      for (const listener of forward) listener.call(session, stream, headers, flags, rawHeaders);
    });
  });
}
