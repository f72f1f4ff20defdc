import type { IncomingMessage, ServerResponse } from "node:http";
import type {
  Http2ServerRequest,
  Http2ServerResponse,
  Http2Stream,
  IncomingHttpHeaders,
  ServerHttp2Stream,
} from "node:http2";
import type { Readable } from "node:stream";
import {
  type BinaryReadOptions,
  type BinaryWriteOptions,
  create,
  type DescMessage,
  isMessage,
  type JsonReadOptions,
  type JsonWriteOptions,
} from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import {
  Code,
  ConnectError,
  type ContextValues,
  type HandlerContext,
  type Interceptor,
  type MethodImplSpec,
  type StreamResponse,
  type UnaryResponse,
} from "@connectrpc/connect";
import {
  type Compression,
  compressionNegotiate,
  createMethodSerializationLookup,
  type MethodSerializationLookup,
  mergeNonProtocolHeaders,
  type Serialization,
  validateReadWriteMaxBytes,
} from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  createEndStreamSerialization,
  errorToJsonBytes,
  parseTimeout as parseConnectTimeout,
} from "@connectrpc/connect/protocol-connect";
import {
  parseTimeout as parseGrpcTimeout,
  setTrailerStatus,
} from "@connectrpc/connect/protocol-grpc";
import { trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { EngineCall } from "./engine-call.js";
import { compressedFlag, envelopeFrame } from "./envelope-frame.js";
import type { NodeHeaders } from "./header-map.js";
import { Http2StreamResponse } from "./http2-stream-response.js";
import type { Wire } from "./negotiate-wire.js";
import { RequestMessages } from "./request-messages.js";
import { isSharedEncoding } from "./share-encoding.js";

/** What the engine is told; the same names and defaults as connect-es's handler options. */
export interface EngineOptions {
  /** Interceptors in order, outermost first, as for `createConnectRouter`. */
  interceptors?: Interceptor[];
  readMaxBytes?: number;
  writeMaxBytes?: number;
  /** Responses and response messages at least this long are compressed when the client accepts it. */
  compressMinBytes?: number;
  /** Deadlines longer than this are cut to it (connect-es refuses them). */
  maxTimeoutMs?: number;
  acceptCompression?: Compression[];
  /** When aborted, every call in flight sees its signal aborted with this signal's reason. */
  shutdownSignal?: AbortSignal;
  jsonOptions?: Partial<JsonReadOptions & JsonWriteOptions>;
  binaryOptions?: Partial<BinaryReadOptions & BinaryWriteOptions>;
}

type AnyRequest = IncomingMessage | Http2ServerRequest;
/** Typed as HTTP/1.1's response; HTTP/2's compatibility response has the same methods used here. */
type AnyResponse = ServerResponse;
type AnyResult = UnaryResponse | StreamResponse;

/** A unary, server- or client-streaming method, ready to serve. */
export interface EngineRoute {
  readonly spec: MethodImplSpec;
  readonly serialization: MethodSerializationLookup<DescMessage, DescMessage>;
  /** The implementation behind the interceptors. */
  readonly invoke: (request: EngineCall) => Promise<AnyResult>;
}

const callKey = Symbol("engine call");
const textEncoder = new TextEncoder();

/** The state of one exchange on the wire. */
interface Exchange {
  readonly route: EngineRoute;
  readonly wire: Wire;
  readonly call: EngineCall;
  readonly res: AnyResponse;
  readonly replyHeaders: NodeHeaders | undefined;
  readonly responseCompression: Compression | null;
  finished: boolean;
  headSent: boolean;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Serves unary, server- and client-streaming methods over gRPC, gRPC-Web and Connect straight from
 * Node's request and response, with connect-es's own helpers for everything off the hot path
 * (timeouts, compression negotiation, error and trailer encoding, serialization).
 */
export class Engine {
  readonly options: Required<Omit<EngineOptions, "shutdownSignal">> & {
    shutdownSignal: AbortSignal | undefined;
  };
  private readonly active = new Set<EngineCall>();
  /** Encoded frames of shared messages, uncompressed, per format. */
  private readonly binaryFrames = new WeakMap<object, Buffer>();
  private readonly jsonFrames = new WeakMap<object, Buffer>();
  private readonly endStream: Serialization<{ metadata: Headers; error?: ConnectError }>;

  constructor(options: EngineOptions = {}) {
    const limits = validateReadWriteMaxBytes(
      options.readMaxBytes,
      options.writeMaxBytes,
      options.compressMinBytes,
    );
    this.options = {
      interceptors: options.interceptors ?? [],
      ...limits,
      maxTimeoutMs: options.maxTimeoutMs ?? Number.MAX_SAFE_INTEGER,
      acceptCompression: options.acceptCompression ?? [],
      shutdownSignal: options.shutdownSignal,
      jsonOptions: options.jsonOptions ?? {},
      binaryOptions: options.binaryOptions ?? {},
    };
    this.endStream = createEndStreamSerialization(this.options.jsonOptions);
    const shutdown = options.shutdownSignal;
    shutdown?.addEventListener(
      "abort",
      () => {
        for (const call of this.active) call.abort(shutdown.reason);
      },
      { once: true },
    );
  }

  /** Prepares a method for serving; interceptors are chained here, once. */
  route(spec: MethodImplSpec): EngineRoute {
    const { method } = spec;
    const serialization = createMethodSerializationLookup(
      method,
      this.options.binaryOptions,
      this.options.jsonOptions,
      this.options,
    );
    const output = method.output;
    let next: (request: EngineCall) => Promise<AnyResult>;
    if (spec.kind === "unary") {
      const impl = spec.impl;
      next = async (req) => {
        const call = (req as unknown as Record<symbol, EngineCall>)[callKey] ?? req;
        const message = await impl(req.message as never, contextOf(call, req));
        return unaryResponse(call, normalize(output, message));
      };
    } else if (spec.kind === "server_streaming") {
      const impl = spec.impl;
      next = async (req) => {
        const call = (req as unknown as Record<symbol, EngineCall>)[callKey] ?? req;
        const input = await single(req.message as AsyncIterable<unknown>);
        return streamResponse(call, impl(input as never, contextOf(call, req)));
      };
    } else if (spec.kind === "client_streaming") {
      const impl = spec.impl;
      next = async (req) => {
        const call = (req as unknown as Record<symbol, EngineCall>)[callKey] ?? req;
        const message = await impl(req.message as never, contextOf(call, req));
        return streamResponse(call, singleIterable(normalize(output, message), undefined));
      };
    } else {
      throw new ConnectError(`the engine does not serve ${spec.kind} methods`, Code.Internal);
    }
    const invoke = this.options.interceptors.reduceRight(
      (inner, interceptor) => interceptor(inner as never) as never,
      next,
    );
    return { spec, serialization, invoke };
  }

  /**
   * Serves one call. `wire` comes from {@link negotiateWire}; `replyHeaders` are written with
   * the response head (a request id, CORS headers).
   */
  serve(
    route: EngineRoute,
    wire: Wire,
    req: AnyRequest,
    res: ServerResponse | Http2ServerResponse,
    url: string,
    contextValues: ContextValues,
    replyHeaders?: NodeHeaders,
  ): void {
    this.start(
      route,
      wire,
      req.headers as NodeHeaders,
      req.method ?? "POST",
      req,
      res as ServerResponse,
      url,
      contextValues,
      replyHeaders,
      (req as Http2ServerRequest).stream,
    );
  }

  /**
   * Serves one call straight on an HTTP/2 stream, without Node's compatibility request and
   * response: `headers` are the stream's (pseudo-headers included), `url` as for
   * {@link serve}. The stream's errors are the call's business from here on.
   */
  serveHttp2Stream(
    route: EngineRoute,
    wire: Wire,
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    url: string,
    contextValues: ContextValues,
    replyHeaders?: NodeHeaders,
  ): void {
    // A reset stream may still report a failed write; the close handler below deals with it.
    stream.on("error", ignore);
    this.start(
      route,
      wire,
      headers as NodeHeaders,
      headers[":method"] ?? "POST",
      stream,
      new Http2StreamResponse(stream) as unknown as AnyResponse,
      url,
      contextValues,
      replyHeaders,
      stream,
    );
  }

  private start(
    route: EngineRoute,
    wire: Wire,
    headers: NodeHeaders,
    requestMethod: string,
    req: Readable,
    res: AnyResponse,
    url: string,
    contextValues: ContextValues,
    replyHeaders: NodeHeaders | undefined,
    http2Stream: Http2Stream | undefined,
  ): void {
    const { method } = route.spec;
    const call = new EngineCall(
      method,
      method.parent,
      requestMethod,
      wire.protocol === "grpc_web" ? "grpc-web" : wire.protocol,
      url,
      contextValues,
      headers,
    );
    (call as unknown as Record<symbol, EngineCall>)[callKey] = call;

    // Deadline: capped at the maximum rather than refused.
    let early: ConnectError | undefined;
    const timeout =
      wire.protocol === "connect"
        ? parseConnectTimeout(header(headers, "connect-timeout-ms"), Number.MAX_SAFE_INTEGER)
        : parseGrpcTimeout(header(headers, "grpc-timeout"), Number.MAX_SAFE_INTEGER);

    const names = compressionHeaders(wire);
    const requested = wire.get ? queryParam(url, "compression") : header(headers, names.encoding);
    const accepted = header(headers, names.acceptEncoding);
    let requestCompression: Compression | null = null;
    let responseCompression: Compression | null = null;
    if (requested !== null || accepted !== null) {
      const negotiated = compressionNegotiate(
        this.options.acceptCompression,
        requested,
        accepted,
        names.acceptEncoding,
      );
      requestCompression = negotiated.request;
      responseCompression = negotiated.response;
      if (negotiated.error) early = negotiated.error;
    }
    // connect-es raises a compression error before a timeout error.
    early ??= timeout.error;

    const ex: Exchange = {
      route,
      wire,
      call,
      res,
      replyHeaders,
      responseCompression,
      finished: false,
      headSent: false,
      timer: undefined,
    };
    this.active.add(call);
    // 'close' comes once; `on` spares the wrapper `once` builds.
    ex.res.on("close", () => {
      this.active.delete(call);
      if (ex.timer) clearTimeout(ex.timer);
      if (!ex.finished) {
        // The client went away (reset stream, closed socket) before the response ended.
        ex.finished = true;
        call.abort(resetError(http2Stream));
      }
    });
    if (early) {
      this.failInput(ex, early);
      return;
    }
    if (timeout.timeoutMs !== undefined) {
      const ms = Math.min(timeout.timeoutMs, this.options.maxTimeoutMs);
      call.deadline = Date.now() + ms;
      ex.timer = setTimeout(() => {
        const error = new ConnectError("the operation timed out", Code.DeadlineExceeded);
        call.abort(error);
        this.finish(ex, error);
      }, ms);
    }

    if (wire.get) {
      this.received(ex, requestCompression, queryMessage(url));
      return;
    }
    if (route.spec.kind === "client_streaming") {
      // Messages are decoded as they arrive; the handler runs at once and reads them.
      const messages = new RequestMessages(
        req,
        (flags, data) => this.decodeEnvelope(ex, requestCompression, flags, data),
        this.options.readMaxBytes,
        wire.protocol === "connect",
      );
      // However the call is cut short (its deadline, a reset, the server's drain), a handler
      // waiting for more input stops waiting: the reset's 'close' alone would miss the others.
      const cut = () => messages.fail(call.signal.reason);
      if (call.signal.aborted) cut();
      else call.signal.addEventListener("abort", cut, { once: true });
      this.run(ex, messages);
      return;
    }
    const { readMaxBytes } = this.options;
    const lengthHint = wire.enveloped ? undefined : header(headers, "content-length");
    if (lengthHint !== null && lengthHint !== undefined && Number(lengthHint) > readMaxBytes) {
      this.finish(ex, readMaxError(readMaxBytes, Number(lengthHint)));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      chunks.push(chunk);
      const limit = wire.enveloped ? 2 * (readMaxBytes + 5) : readMaxBytes;
      if (size > limit) {
        req.off("data", onData);
        req.off("end", onEnd);
        this.finish(ex, readMaxError(readMaxBytes, undefined));
        req.resume();
      }
    };
    const onEnd = () => {
      // No 'data' follows 'end', so onData stays: removing a Readable's last 'data' listener
      // costs more than the listener.
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
      this.received(ex, requestCompression, body);
    };
    req.on("data", onData);
    req.once("end", onEnd);
  }

  /** The request body arrived: decode it and run the call. */
  private received(ex: Exchange, compression: Compression | null, body: Uint8Array | string): void {
    if (ex.finished) return;
    let decoded: Promise<unknown> | unknown;
    try {
      decoded = this.decode(ex, compression, body);
    } catch (error) {
      this.failInput(ex, error);
      return;
    }
    if (decoded instanceof Promise) {
      decoded.then(
        (message) => this.run(ex, message),
        (error: unknown) => this.failInput(ex, error),
      );
    } else {
      this.run(ex, decoded);
    }
  }

  /** The request message; a promise only when it must be decompressed. */
  private decode(
    ex: Exchange,
    compression: Compression | null,
    body: Uint8Array | string,
  ): Promise<unknown> | unknown {
    const { wire, route } = ex;
    const { readMaxBytes } = this.options;
    const parser = route.serialization.getI(wire.binary) as unknown as Serialization<never>;
    const parse = (bytes: Uint8Array) =>
      parseMessage(parser, bytes, wire.binary, route.spec.method.input, readMaxBytes);
    if (typeof body === "string") throw new ConnectError("unexpected query", Code.Internal);
    if (!wire.enveloped) {
      if (compression) return compression.decompress(body, readMaxBytes).then(parse);
      return parse(body);
    }
    const unary = route.spec.kind === "unary" ? "unary" : "server-streaming";
    const envelopes = splitEnvelopes(body, readMaxBytes, wire);
    const first = envelopes[0];
    if (first === undefined) {
      throw new ConnectError(
        `protocol error: missing input message for ${unary} method`,
        Code.Unimplemented,
      );
    }
    if (envelopes.length > 1) {
      throw new ConnectError(
        `protocol error: received extra input message for ${unary} method`,
        Code.Unimplemented,
      );
    }
    return this.decodeEnvelope(ex, compression, first.flags, first.data);
  }

  /** One enveloped request message; a promise only when it must be decompressed. */
  private decodeEnvelope(
    ex: Exchange,
    compression: Compression | null,
    flags: number,
    data: Uint8Array,
  ): Promise<unknown> | unknown {
    const parser = ex.route.serialization.getI(ex.wire.binary) as unknown as Serialization<never>;
    const parse = (bytes: Uint8Array) =>
      parseMessage(
        parser,
        bytes,
        ex.wire.binary,
        ex.route.spec.method.input,
        this.options.readMaxBytes,
      );
    if ((flags & compressedFlag) === compressedFlag) {
      if (!compression) {
        throw new ConnectError(
          "received compressed envelope, but do not know how to decompress",
          Code.Internal,
        );
      }
      return compression.decompress(data, this.options.readMaxBytes).then(parse);
    }
    return parse(data);
  }

  /**
   * The request could not be read. A unary call ends at once; a streaming call still
   * passes the interceptors, whose implementation then fails reading its input: connect-es
   * reads a stream's input only when the implementation asks for it.
   */
  private failInput(ex: Exchange, error: unknown): void {
    if (ex.route.spec.kind === "unary") this.finish(ex, error);
    else this.run(ex, undefined, error);
  }

  /** Runs interceptors and implementation, then answers. */
  private run(ex: Exchange, input: unknown, inputError?: unknown): void {
    if (ex.finished) return;
    const { call, route } = ex;
    call.message =
      route.spec.kind === "unary"
        ? input
        : route.spec.kind === "client_streaming" && inputError === undefined
          ? input
          : singleIterable(input, inputError);
    let result: Promise<AnyResult>;
    try {
      result = route.invoke(call);
    } catch (error) {
      this.finish(ex, error);
      return;
    }
    result.then(
      (response) => {
        if (ex.finished) return;
        adoptHeaders(call, response);
        if (!response.stream) {
          this.answerUnary(ex, response.message);
        } else {
          void this.pump(ex, response);
        }
      },
      (error: unknown) => this.finish(ex, error),
    );
  }

  private answerUnary(ex: Exchange, message: unknown): void {
    const { wire } = ex;
    if (wire.enveloped) {
      let frame: Buffer | Promise<Buffer>;
      try {
        frame = this.frame(ex, message as object, wire.binary);
      } catch (error) {
        this.finish(ex, error);
        return;
      }
      if (frame instanceof Promise) {
        frame.then(
          (compressed) => this.finish(ex, undefined, compressed),
          (error: unknown) => this.finish(ex, error),
        );
        return;
      }
      this.finish(ex, undefined, frame);
      return;
    }
    let payload: Uint8Array;
    try {
      // A shared message's Connect unary body is its cached envelope's payload.
      payload = isSharedEncoding(message as object)
        ? this.plainFrame(ex, message as object, wire.binary).subarray(5)
        : ex.route.serialization.getO(wire.binary).serialize(message as never);
    } catch (error) {
      this.finish(ex, error);
      return;
    }
    this.finishConnectUnary(ex, undefined, payload);
  }

  /** Writes each message of a server stream as it comes, waiting while the client is slow. */
  private async pump(ex: Exchange, response: StreamResponse): Promise<void> {
    const iterator = response.message[Symbol.asyncIterator]();
    const { res, route, wire } = ex;
    const output = route.spec.method.output;
    try {
      for (;;) {
        const next = await iterator.next();
        if (ex.finished) {
          void iterator.return?.()?.catch(() => {});
          return;
        }
        if (next.done) break;
        // Awaiting only what is a promise (compression) saves a microtask per message.
        let frame = this.frame(ex, normalize(output, next.value), wire.binary);
        if (frame instanceof Promise) frame = await frame;
        if (ex.finished) {
          void iterator.return?.()?.catch(() => {});
          return;
        }
        this.head(ex, 200);
        if (!res.write(frame)) await drained(res);
      }
    } catch (error) {
      this.finish(ex, error);
      return;
    }
    adoptTrailers(ex.call, response);
    this.finish(ex, undefined);
  }

  /** One enveloped message; a shared message is encoded once per format and reused. */
  private frame(ex: Exchange, message: object, binary: boolean): Buffer | Promise<Buffer> {
    const compression = ex.responseCompression;
    const { compressMinBytes } = this.options;
    if (!isSharedEncoding(message)) {
      const payload = ex.route.serialization.getO(binary).serialize(message as never);
      if (compression && payload.byteLength >= compressMinBytes) {
        return compression.compress(payload).then((c) => envelopeFrame(compressedFlag, c));
      }
      return envelopeFrame(0, payload);
    }
    const plain = this.plainFrame(ex, message, binary);
    if (compression && plain.byteLength - 5 >= compressMinBytes) {
      return compression.compress(plain.subarray(5)).then((c) => envelopeFrame(compressedFlag, c));
    }
    return plain;
  }

  /** The uncompressed envelope of a shared message, encoded on first use. */
  private plainFrame(ex: Exchange, message: object, binary: boolean): Buffer {
    const cache = binary ? this.binaryFrames : this.jsonFrames;
    let plain = cache.get(message);
    if (plain === undefined) {
      plain = envelopeFrame(0, ex.route.serialization.getO(binary).serialize(message as never));
      cache.set(message, plain);
    }
    return plain;
  }

  /** Writes the response head once; `status` is 200 except for Connect unary errors. */
  private head(ex: Exchange, status: number, contentType?: string, extra?: NodeHeaders): void {
    if (ex.headSent) return;
    ex.headSent = true;
    const headers: NodeHeaders = {};
    if (ex.replyHeaders) Object.assign(headers, ex.replyHeaders);
    headers["content-type"] = contentType ?? ex.wire.responseType;
    if (ex.responseCompression && ex.wire.enveloped) {
      headers[ex.wire.protocol === "connect" ? "connect-content-encoding" : "grpc-encoding"] =
        ex.responseCompression.name;
    }
    ex.call.responseHeaders.copyTo(headers);
    if (extra) Object.assign(headers, extra);
    ex.res.writeHead(status, headers as never);
  }

  /**
   * Ends the call with its status: `error` undefined for OK. For enveloped protocols `frame`
   * is the last data frame (a unary answer). Runs once; later calls change nothing.
   */
  private finish(ex: Exchange, error: unknown, frame?: Buffer): void {
    try {
      this.finishUnsafe(ex, error, frame);
    } catch (writeError) {
      abandon(ex, writeError);
    }
  }

  private finishUnsafe(ex: Exchange, error: unknown, frame?: Buffer): void {
    if (ex.finished) return;
    if (!ex.wire.enveloped) {
      if (error === undefined) return;
      this.finishConnectUnaryUnsafe(ex, error, undefined);
      return;
    }
    ex.finished = true;
    this.settled(ex);
    const connectError = toConnectError(error);
    if (connectError) ex.call.abort(connectError);
    const { res, wire, call } = ex;
    this.head(ex, 200);
    if (wire.protocol === "grpc") {
      const trailers = call.responseTrailers;
      setTrailerStatus(trailers.asHeaders(), connectError);
      const nodeTrailers: NodeHeaders = {};
      trailers.copyTo(nodeTrailers);
      res.addTrailers(nodeTrailers as never);
      if (frame) res.end(frame);
      else res.end();
      return;
    }
    let last: Uint8Array;
    let flags: number;
    if (wire.protocol === "grpc_web") {
      setTrailerStatus(call.responseTrailers.asHeaders(), connectError);
      last = trailerSerialize(call.responseTrailers.asHeaders());
      flags = 0b10000000;
    } else {
      last = this.endStream.serialize({
        metadata: call.responseTrailers.asHeaders(),
        error: connectError,
      });
      flags = 0b00000010;
    }
    const compression = ex.responseCompression;
    if (compression && last.byteLength >= this.options.compressMinBytes) {
      compression.compress(last).then(
        (compressed) => endWith(res, frame, envelopeFrame(flags | compressedFlag, compressed)),
        () => endWith(res, frame, envelopeFrame(flags, last)),
      );
      return;
    }
    endWith(res, frame, envelopeFrame(flags, last));
  }

  /** Answers a Connect unary call, or a Connect GET, with its message or error. */
  private finishConnectUnary(ex: Exchange, error: unknown, payload: Uint8Array | undefined): void {
    try {
      this.finishConnectUnaryUnsafe(ex, error, payload);
    } catch (writeError) {
      abandon(ex, writeError);
    }
  }

  private finishConnectUnaryUnsafe(
    ex: Exchange,
    error: unknown,
    payload: Uint8Array | undefined,
  ): void {
    if (ex.finished) return;
    ex.finished = true;
    this.settled(ex);
    const { call, res } = ex;
    let status = 200;
    let contentType = ex.wire.responseType;
    let body: Uint8Array;
    const connectError =
      payload === undefined ? (toConnectError(error) as ConnectError) : undefined;
    if (connectError) {
      call.abort(connectError);
      status = codeToHttpStatus(connectError.code);
      contentType = "application/json";
      if (!connectError.isWireError) {
        mergeNonProtocolHeaders(call.responseHeader, connectError.metadata);
      }
      body = errorToJsonBytes(connectError, this.options.jsonOptions);
    } else {
      body = payload as Uint8Array;
    }
    const extra: NodeHeaders = {};
    call.responseTrailers.copyTo(extra, "trailer-");
    const compression = ex.responseCompression;
    const write = (bytes: Uint8Array, encoding: string | undefined) => {
      try {
        if (encoding) extra["content-encoding"] = encoding;
        extra["content-length"] = bytes.byteLength;
        this.head(ex, status, contentType, extra);
        res.end(bytes);
      } catch (writeError) {
        abandon(ex, writeError);
      }
    };
    if (compression && body.byteLength >= this.options.compressMinBytes) {
      compression.compress(body).then(
        (compressed) => write(compressed, compression.name),
        () => write(body, undefined),
      );
      return;
    }
    write(body, undefined);
  }

  private settled(ex: Exchange): void {
    this.active.delete(ex.call);
    if (ex.timer) {
      clearTimeout(ex.timer);
      ex.timer = undefined;
    }
  }
}

function ignore(): void {}

function endWith(res: AnyResponse, frame: Buffer | undefined, last: Buffer): void {
  try {
    res.end(frame ? Buffer.concat([frame, last]) : last);
  } catch {
    res.destroy();
  }
}

/**
 * Writing failed (the stream went away between our last look and the write): the call is over
 * for the client, so it is aborted and the response destroyed, never left to throw into a
 * promise chain nobody awaits.
 */
function abandon(ex: Exchange, error: unknown): void {
  ex.finished = true;
  ex.call.abort(
    new ConnectError(
      "the response could not be written",
      Code.Aborted,
      undefined,
      undefined,
      error,
    ),
  );
  ex.res.destroy();
}

function header(headers: NodeHeaders, name: string): string | null {
  const value = headers[name];
  if (value === undefined) return null;
  return typeof value === "string"
    ? value
    : Array.isArray(value)
      ? value.join(", ")
      : String(value);
}

const grpcCompressionHeaders = {
  encoding: "grpc-encoding",
  acceptEncoding: "grpc-accept-encoding",
};
const connectStreamCompressionHeaders = {
  encoding: "connect-content-encoding",
  acceptEncoding: "connect-accept-encoding",
};
const connectUnaryCompressionHeaders = {
  encoding: "content-encoding",
  acceptEncoding: "accept-encoding",
};

function compressionHeaders(wire: Wire): { encoding: string; acceptEncoding: string } {
  if (wire.protocol !== "connect") return grpcCompressionHeaders;
  if (wire.enveloped) return connectStreamCompressionHeaders;
  return connectUnaryCompressionHeaders;
}

function queryParam(url: string, name: string): string | null {
  const query = url.indexOf("?");
  return query < 0 ? null : new URLSearchParams(url.slice(query + 1)).get(name);
}

/** The message of a Connect GET, from its query string. */
function queryMessage(url: string): Uint8Array {
  const query = url.indexOf("?");
  const params = new URLSearchParams(query < 0 ? "" : url.slice(query + 1));
  const message = params.get("message") ?? "";
  return params.get("base64") === "1" ? base64Decode(message) : textEncoder.encode(message);
}

function readMaxError(readMaxBytes: number, size: number | undefined): ConnectError {
  return new ConnectError(
    size === undefined
      ? `message size is larger than configured readMaxBytes ${readMaxBytes}`
      : `message size ${size} is larger than configured readMaxBytes ${readMaxBytes}`,
    Code.ResourceExhausted,
  );
}

/**
 * The enveloped messages of a request body. Connect streaming's end-of-stream envelope is
 * skipped, as connect-es does.
 */
function splitEnvelopes(
  body: Uint8Array,
  readMaxBytes: number,
  wire: Wire,
): { flags: number; data: Uint8Array }[] {
  const envelopes: { flags: number; data: Uint8Array }[] = [];
  let offset = 0;
  while (offset < body.byteLength) {
    if (body.byteLength - offset < 5) {
      throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
    }
    const flags = body[offset] as number;
    const length =
      ((body[offset + 1] as number) << 24) |
      ((body[offset + 2] as number) << 16) |
      ((body[offset + 3] as number) << 8) |
      (body[offset + 4] as number);
    const size = length >>> 0;
    if (size > readMaxBytes) throw readMaxError(readMaxBytes, size);
    if (body.byteLength - offset - 5 < size) {
      throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
    }
    const data = body.subarray(offset + 5, offset + 5 + size);
    offset += 5 + size;
    if (wire.protocol === "connect" && (flags & 0b10) === 0b10) continue;
    envelopes.push({ flags, data });
  }
  return envelopes;
}

/**
 * Parses a request message. Malformed binary is INVALID_ARGUMENT, like malformed JSON: the
 * caller sent it (connect-es answers INTERNAL).
 */
function parseMessage(
  parser: Serialization<never>,
  bytes: Uint8Array,
  binary: boolean,
  input: DescMessage,
  readMaxBytes: number,
): unknown {
  // `{}`, what clients send for a message with every field at its default (a health check):
  // the same message fromJson makes, without decoding text and parsing JSON.
  if (!binary && isEmptyJsonObject(bytes) && readMaxBytes >= 2) return create(input);
  try {
    return parser.parse(bytes);
  } catch (error) {
    if (binary && error instanceof ConnectError && error.code === Code.Internal) {
      throw new ConnectError(error.rawMessage, Code.InvalidArgument);
    }
    throw error;
  }
}

function isEmptyJsonObject(bytes: Uint8Array): boolean {
  return bytes.byteLength === 2 && bytes[0] === 0x7b && bytes[1] === 0x7d;
}

function toConnectError(error: unknown): ConnectError | undefined {
  if (error === undefined) return undefined;
  if (error instanceof ConnectError) return error;
  return new ConnectError("internal error", Code.Internal, undefined, undefined, error);
}

function resetError(stream: Http2Stream | undefined): ConnectError {
  const rstCode = stream?.rstCode;
  if (rstCode === 7)
    return new ConnectError(
      "http/2 stream closed with error code REFUSED_STREAM (0x7)",
      Code.Unavailable,
    );
  if (rstCode !== undefined && rstCode !== 0 && rstCode !== 8) {
    return new ConnectError(
      `http/2 stream closed with error code 0x${rstCode.toString(16)}`,
      Code.Internal,
    );
  }
  return new ConnectError("the client closed the call", Code.Canceled);
}

function normalize(desc: DescMessage, value: unknown): object {
  return isMessage(value, desc) ? value : create(desc, value as never);
}

/** The HandlerContext for a request: the call itself unless an interceptor replaced it. */
function contextOf(call: EngineCall, req: EngineCall): HandlerContext {
  if (req === call) return call;
  return {
    method: call.method,
    service: req.service ?? call.service,
    requestMethod: call.requestMethod,
    protocolName: call.protocolName,
    url: call.url,
    signal: req.signal ?? call.signal,
    timeoutMs: () => call.timeoutMs(),
    requestHeader: req.header ?? call.header,
    responseHeader: call.responseHeader,
    responseTrailer: call.responseTrailer,
    values: req.contextValues ?? call.contextValues,
  };
}

function unaryResponse(call: EngineCall, message: object): UnaryResponse {
  return {
    stream: false,
    service: call.service,
    method: call.method,
    header: call.responseHeader,
    trailer: call.responseTrailer,
    message,
  } as UnaryResponse;
}

function streamResponse(call: EngineCall, messages: AsyncIterable<unknown>): StreamResponse {
  return {
    stream: true,
    service: call.service,
    method: call.method,
    header: call.responseHeader,
    trailer: call.responseTrailer,
    message: messages,
  } as StreamResponse;
}

/** Headers an interceptor put on a response object of its own become the call's. */
function adoptHeaders(call: EngineCall, response: AnyResult): void {
  if (response.header !== undefined && response.header !== call.responseHeader) {
    copyInto(response.header, call.responseHeader);
  }
  if (!response.stream) adoptTrailers(call, response);
}

function adoptTrailers(call: EngineCall, response: AnyResult): void {
  if (response.trailer !== undefined && response.trailer !== call.responseTrailer) {
    copyInto(response.trailer, call.responseTrailer);
  }
}

function copyInto(from: Headers, to: Headers): void {
  for (const key of [...to.keys()]) to.delete(key);
  from.forEach((value, key) => {
    to.set(key, value);
  });
}

async function single(messages: AsyncIterable<unknown>): Promise<unknown> {
  const it = messages[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) {
    throw new ConnectError(
      "protocol error: missing input message for server-streaming method",
      Code.Unimplemented,
    );
  }
  return first.value;
}

/** The input of a server-streaming call: its one message, or the error reading it. */
function singleIterable(value: unknown, error: unknown): AsyncIterable<unknown> {
  return {
    [Symbol.asyncIterator]() {
      let done = false;
      return {
        next() {
          if (error !== undefined) return Promise.reject(error);
          if (done) return Promise.resolve({ done: true as const, value: undefined });
          done = true;
          return Promise.resolve({ done: false, value });
        },
      };
    },
  };
}

function drained(res: AnyResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** Exposed for the Fastify plugin: the protocol label connect-es would give the call. */
export type { Wire };
