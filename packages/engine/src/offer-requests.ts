import type { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

/**
 * Takes a request (HTTP/1.1, or HTTP/2 through Node's compatibility layer) before Fastify
 * sees it: true when it serves the request, false to leave it to the server's own listeners.
 */
export type RequestHandler = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => boolean;

type RequestListener = (req: unknown, res: unknown) => void;

/**
 * Offers every request of `server` to `handler` before the listeners `server` has now (the
 * framework's): those see only the requests the handler declines. Call it after the framework
 * attached its listener; a server that builds its own dispatch (grouppe's listener) can call
 * the handler itself instead.
 */
export function offerRequests(server: EventEmitter, handler: RequestHandler): void {
  const forward = server.listeners("request") as RequestListener[];
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (handler(req, res)) return;
    for (const listener of forward) listener.call(server, req, res);
  });
}
