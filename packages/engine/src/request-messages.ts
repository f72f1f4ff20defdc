import type { Readable } from "node:stream";
import { Code, ConnectError } from "@connectrpc/connect";

/** Decodes one envelope's payload into a message; a promise when it must be decompressed. */
export type EnvelopeDecoder = (flags: number, data: Uint8Array) => unknown;

/** Decoded messages held before the body is paused, so a slow handler bounds memory. */
const highWaterMark = 16;

/**
 * The messages of a client stream as an async iterable, decoded from the request body as it
 * arrives: envelopes are split as bytes come in, each is decoded once complete, and the body is
 * paused while the handler has not caught up. Errors come in order, after the messages before
 * them, as connect-es reports them: an envelope above `readMaxBytes`, a decoding failure, an
 * incomplete envelope at the end of the body, or the call being cut short.
 */
export class RequestMessages implements AsyncIterable<unknown> {
  private pending: Buffer = Buffer.alloc(0);
  private readonly queue: { value: unknown }[] = [];
  private ended = false;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;
  private paused = false;

  constructor(
    private readonly body: Readable,
    private readonly decode: EnvelopeDecoder,
    private readonly readMaxBytes: number,
    /** Connect streaming: skip the end-of-stream envelope. */
    private readonly skipEndStream: boolean,
  ) {
    body.on("data", this.onData);
    body.once("end", this.onEnd);
  }

  /** Ends the stream with `error` (the call was cut short); messages not yet read are dropped. */
  fail(error: unknown): void {
    this.stop({ error });
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return {
      next: () => this.next(),
      return: (value?: unknown) => {
        this.discard();
        return Promise.resolve({ done: true as const, value });
      },
    };
  }

  private async next(): Promise<IteratorResult<unknown>> {
    for (;;) {
      const item = this.queue.shift();
      if (item !== undefined) {
        if (this.paused && this.queue.length < highWaterMark / 2) {
          this.paused = false;
          this.body.resume();
        }
        try {
          return { done: false, value: await item.value };
        } catch (error) {
          this.stop({ error });
          throw error;
        }
      }
      if (this.failure) throw this.failure.error;
      if (this.ended) return { done: true, value: undefined };
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private readonly onData = (chunk: Buffer): void => {
    this.pending = this.pending.byteLength === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.byteLength >= 5 && this.failure === undefined) {
      const flags = this.pending[0] as number;
      const length = this.pending.readUInt32BE(1);
      if (length > this.readMaxBytes) {
        this.push({
          value: Promise.reject(
            new ConnectError(
              `message size ${length} is larger than configured readMaxBytes ${this.readMaxBytes}`,
              Code.ResourceExhausted,
            ),
          ),
        });
        this.detach();
        return;
      }
      if (this.pending.byteLength < 5 + length) break;
      const data = this.pending.subarray(5, 5 + length);
      this.pending = this.pending.subarray(5 + length);
      if (this.skipEndStream && (flags & 0b10) === 0b10) continue;
      let value: unknown;
      try {
        value = this.decode(flags, data);
      } catch (error) {
        value = Promise.reject(error);
      }
      if (value instanceof Promise) value.catch(() => undefined);
      this.push({ value });
    }
    if (this.queue.length >= highWaterMark && !this.paused) {
      this.paused = true;
      this.body.pause();
    }
  };

  private readonly onEnd = (): void => {
    if (this.pending.byteLength > 0) {
      this.push({
        value: Promise.reject(
          new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument),
        ),
      });
    }
    this.ended = true;
    this.detach();
    this.wakeUp();
  };

  private push(item: { value: unknown }): void {
    if (item.value instanceof Promise) item.value.catch(() => undefined);
    this.queue.push(item);
    this.wakeUp();
  }

  private stop(failure: { error: unknown }): void {
    if (this.failure) return;
    this.failure = failure;
    this.queue.length = 0;
    this.discard();
    this.wakeUp();
  }

  /** Stops decoding; whatever else the client sends is read and thrown away. */
  private discard(): void {
    this.detach();
    this.queue.length = 0;
    if (!this.body.readableEnded) this.body.resume();
  }

  private detach(): void {
    this.body.off("data", this.onData);
    this.body.off("end", this.onEnd);
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
