import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { type AuthService, type Session, SessionSchema, type User, UserSchema } from "@grouppe/api";
import type { PasswordHasher } from "../auth/passwords.js";
import {
  clearedRefreshCookie,
  refreshCookie,
  refreshTokenFromCookie,
  wantsCookieSession,
} from "../auth/session-cookie.js";
import { hashRefreshToken, type Tokens } from "../auth/tokens.js";
import { DomainError } from "../domain/domain-error.js";
import { fromDomainError, invalidArgument, unauthenticated } from "../errors.js";
import { callerKey } from "../rpc/context.js";
import type { UserRecord } from "../store/records.js";
import type { SessionStore, UserStore } from "../store/stores.js";

export interface AuthServiceDeps {
  users: UserStore;
  sessions: SessionStore;
  tokens: Tokens;
  passwords: PasswordHasher;
}

function toUserMessage(user: UserRecord): User {
  return create(UserSchema, {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    createTime: timestampFromDate(user.createTime),
  });
}

/**
 * The session as the caller gets it. A browser app that sent `x-grouppe-session: cookie` gets
 * its refresh token only in an HttpOnly cookie, out of reach of the page's scripts.
 */
function deliver(session: Session, context: HandlerContext): Session {
  if (!wantsCookieSession(context.requestHeader)) return session;
  const expiresAt = session.refreshTokenExpireTime;
  context.responseHeader.append(
    "set-cookie",
    refreshCookie(session.refreshToken, expiresAt ? timestampDate(expiresAt) : new Date()),
  );
  return { ...session, refreshToken: "" };
}

/** The refresh token a call presents: the request field, else (cookie sessions) the cookie. */
function presentedRefreshToken(field: string, context: HandlerContext): string {
  if (field !== "" || !wantsCookieSession(context.requestHeader)) return field;
  return refreshTokenFromCookie(context.requestHeader);
}

/** An empty refresh_token from a caller that keeps its token itself (gRPC, CLI, curl). */
function refreshTokenRequired() {
  return invalidArgument("refresh_token is required unless the session cookie is used", [
    { field: "refresh_token", description: "value is required", reason: "required" },
  ]);
}

/** Accounts and sessions: scrypt password hashes, JWT access tokens, rotating refresh tokens. */
export function createAuthService(deps: AuthServiceDeps): ServiceImpl<typeof AuthService> {
  const { users, sessions, tokens, passwords } = deps;

  async function newSession(user: UserRecord, familyId: string = randomUUID()): Promise<Session> {
    const refresh = tokens.newRefreshToken();
    await sessions.create({
      userId: user.id,
      familyId,
      tokenHash: refresh.hash,
      expiresAt: refresh.expiresAt,
    });
    return sessionMessage(user, refresh);
  }

  async function sessionMessage(
    user: UserRecord,
    refresh: { token: string; expiresAt: Date },
  ): Promise<Session> {
    const access = await tokens.issueAccessToken(user.id);
    return create(SessionSchema, {
      accessToken: access.token,
      accessTokenExpireTime: timestampFromDate(access.expiresAt),
      refreshToken: refresh.token,
      refreshTokenExpireTime: timestampFromDate(refresh.expiresAt),
      user: toUserMessage(user),
    });
  }

  return {
    async signUp(req, context) {
      try {
        const user = await users.create({
          email: req.email.trim(),
          displayName: req.displayName.trim(),
          passwordHash: await passwords.hash(req.password),
        });
        return { session: deliver(await newSession(user), context) };
      } catch (error) {
        if (error instanceof DomainError) throw fromDomainError(error);
        throw error;
      }
    },

    async logIn(req, context) {
      const found = await users.findByEmail(req.email.trim());
      // Same work and the same answer for an unknown email and a wrong password.
      const valid = await passwords.verify(req.password, found?.passwordHash);
      if (!found || !valid)
        throw unauthenticated("email or password is incorrect", "INVALID_CREDENTIALS");
      return { session: deliver(await newSession(found.user), context) };
    },

    async refreshToken(req, context) {
      const presented = presentedRefreshToken(req.refreshToken, context);
      const cookieSession = wantsCookieSession(context.requestHeader);
      // A cookie that no longer works is dropped, so the browser stops presenting it.
      const refused = (message: string, reason: string) => {
        if (cookieSession) context.responseHeader.append("set-cookie", clearedRefreshCookie());
        return unauthenticated(message, reason);
      };
      if (presented === "") {
        if (!cookieSession) throw refreshTokenRequired();
        throw refused("no session cookie; sign in", "REFRESH_TOKEN_INVALID");
      }
      const next = tokens.newRefreshToken();
      const outcome = await sessions.rotate(hashRefreshToken(presented), {
        tokenHash: next.hash,
        expiresAt: next.expiresAt,
      });
      if (outcome.kind === "reused") {
        throw refused(
          "refresh token was already used; every session it led to is signed out",
          "REFRESH_TOKEN_REUSED",
        );
      }
      if (outcome.kind !== "rotated")
        throw refused("refresh token is not valid; sign in again", "REFRESH_TOKEN_INVALID");
      const user = await users.get(outcome.userId);
      if (!user) throw refused("the account no longer exists", "REFRESH_TOKEN_INVALID");
      return { session: deliver(await sessionMessage(user, next), context) };
    },

    async logOut(req, context) {
      const presented = presentedRefreshToken(req.refreshToken, context);
      if (presented !== "") await sessions.revokeFamily(hashRefreshToken(presented));
      if (wantsCookieSession(context.requestHeader)) {
        context.responseHeader.append("set-cookie", clearedRefreshCookie());
      } else if (presented === "") {
        throw refreshTokenRequired();
      }
      return {};
    },

    async getCurrentUser(_req, context: HandlerContext) {
      const caller = context.values.get(callerKey);
      const user = caller.kind === "user" ? await users.get(caller.userId) : undefined;
      if (!user) throw unauthenticated("sign in first");
      return { user: toUserMessage(user) };
    },
  };
}
