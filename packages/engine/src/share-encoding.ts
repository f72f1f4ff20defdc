/** Messages whose encoded frames may be cached: their owner promised not to change them. */
const sharedMessages = new WeakSet<object>();

/**
 * Marks a message as shared and immutable from here on, so the engine encodes it once per wire
 * format (binary, JSON) and writes the same bytes to every stream it is sent on. Meant for
 * fan-out: one change delivered to thousands of watchers. Changing the message afterwards is a
 * bug: streams would keep sending the bytes of the first encoding. Returns the message.
 */
export function shareEncoding<T extends object>(message: T): T {
  sharedMessages.add(message);
  return message;
}

/** Whether {@link shareEncoding} marked `message`. */
export function isSharedEncoding(message: object): boolean {
  return sharedMessages.has(message);
}
