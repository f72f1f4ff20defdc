/** Flag of an envelope that carries trailers (gRPC-Web) or the end of a stream (Connect). */
export const trailerFlag = 0x80;

/** Wraps one message in the 5-byte length-prefixed envelope gRPC and gRPC-Web use. */
export function encodeEnvelope(payload: Uint8Array, flags = 0): Uint8Array {
  const framed = new Uint8Array(5 + payload.length);
  const view = new DataView(framed.buffer);
  view.setUint8(0, flags);
  view.setUint32(1, payload.length);
  framed.set(payload, 5);
  return framed;
}

/** One envelope read off a stream. */
export interface Envelope {
  flags: number;
  payload: Uint8Array;
}

/**
 * Splits a byte stream into envelopes as chunks arrive; an envelope may span chunks and a
 * chunk may hold many envelopes.
 */
export class EnvelopeReader {
  private pending: Buffer = Buffer.alloc(0);

  /** Adds a chunk and returns every envelope it completes. */
  push(chunk: Buffer): Envelope[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const envelopes: Envelope[] = [];
    let offset = 0;
    while (this.pending.length - offset >= 5) {
      const length = this.pending.readUInt32BE(offset + 1);
      if (this.pending.length - offset - 5 < length) break;
      envelopes.push({
        flags: this.pending[offset] ?? 0,
        payload: this.pending.subarray(offset + 5, offset + 5 + length),
      });
      offset += 5 + length;
    }
    this.pending = offset === 0 ? this.pending : this.pending.subarray(offset);
    return envelopes;
  }
}
