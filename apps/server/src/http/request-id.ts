import { randomUUID } from "node:crypto";

/** What a caller's x-request-id may look like to be kept: a token of 1 to 128 safe characters. */
const saneRequestId = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * The id of a request: the caller's `x-request-id` when it is a sane token (so a trace spans
 * proxies and services), else a fresh UUID. Anything else the caller sent is dropped rather
 * than echoed into logs and headers.
 */
export function requestIdOf(header: string | string[] | undefined): string {
  if (typeof header === "string" && saneRequestId.test(header)) return header;
  return randomUUID();
}
