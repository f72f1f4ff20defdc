import type { OutgoingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { NodeHeaders } from "./header-map.js";

const respondOptions = { waitForTrailers: true };
const trailersKey = Symbol("trailers");
type TrailerCarrier = ServerHttp2Stream & { [trailersKey]?: OutgoingHttpHeaders };

/**
 * Answers 'wantTrailers', always, even without trailers (Node then ends the stream with an
 * empty DATA frame). One function for every stream: no closure per call.
 */
function sendTrailers(this: TrailerCarrier): void {
  this.sendTrailers(this[trailersKey] ?? {});
}

/**
 * The part of a Node response the engine writes to (`writeHead`, `addTrailers`, `write`, `end`,
 * `destroy` and the `close` / `drain` events), straight on an HTTP/2 stream. Node's
 * compatibility response does the same with two more objects per call, a copy of every header
 * through `setHeader`, and a listener set per stream; this does what grpc-js does: `respond`
 * with `waitForTrailers`, the data, then the trailers when the stream asks for them.
 */
export class Http2StreamResponse {
  constructor(readonly stream: ServerHttp2Stream) {}

  writeHead(status: number, headers: NodeHeaders): this {
    headers[":status"] = status;
    this.stream.respond(headers as OutgoingHttpHeaders, respondOptions);
    this.stream.on("wantTrailers", sendTrailers);
    return this;
  }

  addTrailers(trailers: OutgoingHttpHeaders): void {
    (this.stream as TrailerCarrier)[trailersKey] = trailers;
  }

  write(chunk: Uint8Array): boolean {
    return this.stream.write(chunk);
  }

  end(chunk?: Uint8Array): this {
    if (chunk === undefined) this.stream.end();
    else this.stream.end(chunk);
    return this;
  }

  destroy(): void {
    this.stream.destroy();
  }

  once(event: "close", listener: () => void): this {
    this.stream.once(event, listener);
    return this;
  }

  on(event: "close" | "drain", listener: () => void): this {
    this.stream.on(event, listener);
    return this;
  }

  off(event: "close" | "drain", listener: () => void): this {
    this.stream.off(event, listener);
    return this;
  }
}
