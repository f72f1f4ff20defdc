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
  async function userOf(authorization: string): Promise<Caller> {
    const match = /^Bearer ([A-Za-z0-9\-_.]{1,4096})$/.exec(authorization);
    if (!match?.[1]) {
      throw unauthenticated(
        "authorization header must be 'Bearer <access token>'",
        "TOKEN_INVALID",
      );
    }
    try {
      const claims = await tokens.verifyAccessToken(match[1]);
      return { kind: "user", userId: claims.userId };
    } catch (error) {
      if (!(error instanceof InvalidTokenError)) throw error;
      throw error.expired
        ? unauthenticated("access token expired; refresh the session", "TOKEN_EXPIRED")
        : unauthenticated("access token invalid", "TOKEN_INVALID");
    }
  }

  // Not an async function: calls without a token (most reads, every health check) pass
  // straight through without an extra promise.
  return (next) => (req) => {
    const authorization = req.header.get("authorization");
    if (authorization === null) {
      const certificate = req.contextValues.get(peerKey).certificate;
      req.contextValues.set(
        callerKey,
        certificate ? { kind: "service", principal: certificate.principal } : anonymous,
      );
      return next(req);
    }
    return userOf(authorization).then((caller) => {
      req.contextValues.set(callerKey, caller);
      return next(req);
    });
  };
}
