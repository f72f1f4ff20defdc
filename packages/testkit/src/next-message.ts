/**
 * The next value of a stream, or an error that says what was awaited and for how long, instead
 * of a test that hangs until its own timeout. A stream that ends first is an error too.
 */
export async function nextMessage<T>(
  stream: AsyncIterator<T>,
  { what, timeoutMs = 20_000 }: { what: string; timeoutMs?: number },
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const result = await Promise.race([stream.next(), timeout]);
    if (result.done) throw new Error(`the stream ended while waiting for ${what}`);
    return result.value;
  } finally {
    clearTimeout(timer);
  }
}
