import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { ContextValues, HandlerContext } from "@connectrpc/connect";
import { HeaderMap, type NodeHeaders } from "./header-map.js";

/**
 * One call in flight: at once the request the interceptors see (`UnaryRequest` or
 * `StreamRequest`) and the `HandlerContext` the implementation gets, so a call allocates one
 * object where connect-es builds a context, a request and three WHATWG `Headers` with copies of
 * every field. Its fields are plain own properties, so an interceptor that copies the request
 * with `{ ...req, message }` keeps them. The signal is aborted only when the call is cut short
 * (client reset, deadline, shutdown), never when it ends normally, and always with a
 * `ConnectError` reason: no `DOMException` is built on the hot path.
 */
export class EngineCall implements HandlerContext {
  readonly stream: boolean;
  /** The request message (unary) or an iterable of it (streaming), as interceptors expect. */
  message: unknown;
  readonly header: Headers;
  readonly signal: AbortSignal;
  readonly responseHeaders = new HeaderMap();
  readonly responseTrailers = new HeaderMap();
  /** When the deadline passes, in `Date.now()` time; undefined without a deadline. */
  deadline: number | undefined;
  private readonly controller = new AbortController();

  constructor(
    readonly method: DescMethod,
    readonly service: DescService,
    readonly requestMethod: string,
    readonly protocolName: string,
    readonly url: string,
    readonly contextValues: ContextValues,
    nodeHeaders: Readonly<NodeHeaders>,
  ) {
    this.stream = method.methodKind !== "unary";
    this.header = new HeaderMap(nodeHeaders).asHeaders();
    this.signal = this.controller.signal;
  }

  get requestHeader(): Headers {
    return this.header;
  }

  get responseHeader(): Headers {
    return this.responseHeaders.asHeaders();
  }

  get responseTrailer(): Headers {
    return this.responseTrailers.asHeaders();
  }

  get values(): ContextValues {
    return this.contextValues;
  }

  get aborted(): boolean {
    return this.signal.aborted;
  }

  timeoutMs(): number | undefined {
    return this.deadline === undefined ? undefined : this.deadline - Date.now();
  }

  /** Aborts the call's signal with `reason`, once. */
  abort(reason: unknown): void {
    if (!this.signal.aborted) this.controller.abort(reason);
  }
}
