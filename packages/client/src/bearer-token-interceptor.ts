import type { Interceptor } from "@connectrpc/connect";

/**
 * An access token: a fixed string, or a function asked once per call (so it can refresh an
 * expiring token). A function may return undefined to send the call without a token.
 */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

/**
 * Sends `authorization: Bearer <token>` on every call that does not already carry an
 * authorization header, so one call can still act for someone else by setting its own.
 */
export function createBearerTokenInterceptor(token: TokenSource): Interceptor {
  return (next) => async (req) => {
    if (!req.header.has("authorization")) {
      const value = typeof token === "string" ? token : await token();
      if (value) req.header.set("authorization", `Bearer ${value}`);
    }
    return next(req);
  };
}
