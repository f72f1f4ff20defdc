/** The flag of a compressed envelope (gRPC, gRPC-Web, Connect streaming). */
export const compressedFlag = 0b00000001;

/**
 * One enveloped message: flags, 4-byte big-endian length, payload, in one buffer so it goes to
 * the socket in one write. The same bytes frame a data message in gRPC, gRPC-Web and Connect
 * streaming.
 */
export function envelopeFrame(flags: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + payload.byteLength);
  frame[0] = flags;
  frame.writeUInt32BE(payload.byteLength, 1);
  frame.set(payload, 5);
  return frame;
}
