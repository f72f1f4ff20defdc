import { type FastifyReply, type FastifyRequest, LogController } from "fastify";

/** A calendar feed's path is its password: logs keep the route, never the token. */
function maskSecrets(path: string): string {
  return path.replace(/^\/calendar\/feeds\/[^/]+$/, "/calendar/feeds/[token].ics");
}

/**
 * Fastify's request log lines, minus the ones the observe interceptor already writes: RPCs are
 * logged once by the interceptor, with their status code, so Fastify stays quiet about them;
 * other requests (pages, probes) get one line when they complete, with method, path (no query
 * string, which may carry anything), status and time.
 */
export class RequestLogController extends LogController {
  constructor(
    requestIdLogLabel: string,
    /** Path prefixes of RPCs, "/<service type name>/"; filled in as services are registered. */
    private readonly rpcPrefixes: ReadonlySet<string>,
  ) {
    super({ requestIdLogLabel });
  }

  override isLogDisabled(request: FastifyRequest): boolean {
    const url = request.raw.url ?? "";
    const end = url.indexOf("/", 1);
    return end > 0 && this.rpcPrefixes.has(url.slice(0, end + 1));
  }

  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    const line = {
      method: request.method,
      path: maskSecrets(request.url.split("?", 1)[0] ?? ""),
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 1000) / 1000,
    };
    if (error) reply.log.error({ ...line, err: error }, "request failed");
    else reply.log.info(line, "request completed");
  }
}
