import type { Interceptor } from "@connectrpc/connect";
import { InvalidTokenError, type Tokens } from "../../auth/tokens.js";
import { unauthenticated } from "../../errors.js";
import { type Caller, callerKey, peerKey } from "../context.js";

const anonymous: Caller = { kind: "anonymous" };

/**
 * Establishes who calls: a verified client certificate makes a service principal; a bearer
 * access token makes a user. A token that is sent must be valid, even on open methods, so a
 * client never mistakes a broken session for being signed in.
 */
export function createAuthenticateInterceptor(tokens: Tokens): Interceptor {
  return (next) => async (req) => {
    const certificate = req.contextValues.get(peerKey).certificate;
    const authorization = req.header.get("authorization");
    if (authorization !== null) {
      const match = /^Bearer ([A-Za-z0-9\-_.]{1,4096})$/.exec(authorization);
      if (!match?.[1])
        throw unauthenticated(
          "authorization header must be 'Bearer <access token>'",
          "TOKEN_INVALID",
        );
      try {
        const claims = await tokens.verifyAccessToken(match[1]);
        req.contextValues.set(callerKey, { kind: "user", userId: claims.userId });
      } catch (error) {
        if (!(error instanceof InvalidTokenError)) throw error;
        throw error.expired
          ? unauthenticated("access token expired; refresh the session", "TOKEN_EXPIRED")
          : unauthenticated("access token invalid", "TOKEN_INVALID");
      }
    } else if (certificate) {
      req.contextValues.set(callerKey, { kind: "service", principal: certificate.principal });
    } else {
      req.contextValues.set(callerKey, anonymous);
    }
    return next(req);
  };
}
