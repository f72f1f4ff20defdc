import type { DescMethod } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type Interceptor,
  type StreamRequest,
  type UnaryRequest,
} from "@connectrpc/connect";
import type { Logger } from "pino";
import { requestIdLogKey } from "../../observability/logger.js";
import type { RpcMetrics, RpcSeries } from "../../observability/metrics.js";
import { peerKey } from "../context.js";

type AnyRequest = UnaryRequest | StreamRequest;

/** Codes that mean the server is at fault; the rest are the caller's business. */
const serverFaults = new Set<number>([Code.Unknown, Code.Internal, Code.DataLoss]);

/**
 * The protocol label of a call, from its Content-Type: `grpc`, `grpc_web` or `connect`, then
 * `_proto` or `_json`. A Connect GET has no Content-Type; its encoding is a query parameter.
 */
export function protocolOf(contentType: string | null, url: string): string {
  if (contentType === null)
    return url.includes("encoding=proto") ? "connect_proto" : "connect_json";
  const json = contentType.includes("json");
  if (contentType.startsWith("application/grpc-web"))
    return json ? "grpc_web_json" : "grpc_web_proto";
  if (contentType.startsWith("application/grpc")) return json ? "grpc_json" : "grpc_proto";
  return json ? "connect_json" : "connect_proto";
}

/** The code a call ended with: its error's, or how its signal was aborted, or OK. */
function codeOf(error: unknown, signal: AbortSignal): Code | 0 {
  if (error !== undefined) return ConnectError.from(error).code;
  if (signal.aborted) return ConnectError.from(signal.reason).code;
  return 0;
}

/**
 * Logs every RPC once when it ends (procedure, protocol, code, duration, request id; never
 * headers or messages) and feeds the per-RPC Prometheus metrics. It goes first in the chain so
 * it sees the final status of every call, including errors raised by other interceptors.
 */
export function createObserveInterceptor(deps: {
  metrics: RpcMetrics;
  logger: Logger;
}): Interceptor {
  const { metrics, logger } = deps;
  const seriesByMethod = new Map<DescMethod, Map<string, RpcSeries>>();

  function seriesOf(method: DescMethod, protocol: string): RpcSeries {
    let byProtocol = seriesByMethod.get(method);
    if (byProtocol === undefined) {
      byProtocol = new Map();
      seriesByMethod.set(method, byProtocol);
    }
    let series = byProtocol.get(protocol);
    if (series === undefined) {
      series = metrics.series(method.parent.typeName, method.name, protocol);
      byProtocol.set(protocol, series);
    }
    return series;
  }

  /** Records and logs one finished call; a plain function, so unary calls allocate no closure for it. */
  function finish(
    req: AnyRequest,
    series: RpcSeries,
    protocol: string,
    started: number,
    error: unknown,
  ): void {
    const code = codeOf(error, req.signal);
    const durationMs = performance.now() - started;
    series.inFlight--;
    if (req.method.methodKind !== "unary") series.openStreams--;
    series.finish(code, durationMs / 1000);
    const level = serverFaults.has(code) ? "error" : "info";
    if (!logger.isLevelEnabled(level)) return;
    logger[level](
      {
        [requestIdLogKey]: req.contextValues.get(peerKey).requestId,
        rpc: series.procedure,
        protocol,
        code: code === 0 ? "OK" : Code[code],
        durationMs: Math.round(durationMs * 1000) / 1000,
      },
      "rpc finished",
    );
  }

  return (next) => async (req) => {
    const started = performance.now();
    const protocol = protocolOf(req.header.get("content-type"), req.url);
    const series = seriesOf(req.method, protocol);
    series.inFlight++;
    if (req.method.methodKind !== "unary") series.openStreams++;
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await next(req);
    } catch (error) {
      finish(req, series, protocol, started, error);
      throw error;
    }
    if (!res.stream) {
      finish(req, series, protocol, started, undefined);
      return res;
    }
    return {
      ...res,
      message: observeMessages(res.message, (error) =>
        finish(req, series, protocol, started, error),
      ),
    };
  };
}

/**
 * Passes a response stream through and reports, once, how it ended. A plain iterator rather
 * than an async generator: it sits on every message of every watch stream, and `yield*` costs
 * several extra promise hops per message.
 */
function observeMessages<T>(
  messages: AsyncIterable<T>,
  finish: (error: unknown) => void,
): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const source = messages[Symbol.asyncIterator]();
      let finished = false;
      const end = (error: unknown) => {
        if (finished) return;
        finished = true;
        finish(error);
      };
      const settle = (result: IteratorResult<T>) => {
        if (result.done) end(undefined);
        return result;
      };
      const fail = (error: unknown): never => {
        end(error);
        throw error;
      };
      return {
        next: () => source.next().then(settle, fail),
        return: (value?: unknown) => {
          end(undefined);
          return source.return
            ? source.return(value).then(settle, fail)
            : Promise.resolve({ done: true as const, value: value as T });
        },
        throw: (error?: unknown) => {
          end(error);
          return source.throw ? source.throw(error).then(settle, fail) : Promise.reject(error);
        },
      };
    },
  };
}
