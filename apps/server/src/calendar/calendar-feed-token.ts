import { createHash, randomBytes } from "node:crypto";

/** 32 random bytes in base64url: what a feed address carries. */
const feedTokenPattern = /^[A-Za-z0-9_-]{43}$/;

/** A new feed token and the hash that is stored of it. */
export function newCalendarFeedToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString("base64url");
  return { token, hash: hashCalendarFeedToken(token) };
}

/** Feed tokens are high-entropy random strings, so a plain SHA-256 is the right hash. */
export function hashCalendarFeedToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

/** Whether text has the shape of a feed token; anything else is not worth a database read. */
export function isCalendarFeedToken(text: string): boolean {
  return feedTokenPattern.test(text);
}

/** Where a feed token's calendar is served. */
export function calendarFeedPath(token: string): string {
  return `/calendar/feeds/${token}.ics`;
}
