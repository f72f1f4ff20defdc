import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { type AuthService, type Session, SessionSchema, type User, UserSchema } from "@grouppe/api";
import { decoyHash, hashPassword, verifyPassword } from "../auth/passwords.js";
import { hashRefreshToken, type Tokens } from "../auth/tokens.js";
import { DomainError } from "../domain/domain-error.js";
import { fromDomainError, unauthenticated } from "../errors.js";
import { callerKey } from "../rpc/context.js";
import type { UserRecord } from "../store/records.js";
import type { SessionStore, UserStore } from "../store/stores.js";

export interface AuthServiceDeps {
  users: UserStore;
  sessions: SessionStore;
  tokens: Tokens;
}

function toUserMessage(user: UserRecord): User {
  return create(UserSchema, {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    createTime: timestampFromDate(user.createTime),
  });
}

/** Accounts and sessions: scrypt password hashes, JWT access tokens, rotating refresh tokens. */
export function createAuthService(deps: AuthServiceDeps): ServiceImpl<typeof AuthService> {
  const { users, sessions, tokens } = deps;

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
    async signUp(req) {
      try {
        const user = await users.create({
          email: req.email.trim(),
          displayName: req.displayName.trim(),
          passwordHash: await hashPassword(req.password),
        });
        return { session: await newSession(user) };
      } catch (error) {
        if (error instanceof DomainError) throw fromDomainError(error);
        throw error;
      }
    },

    async logIn(req) {
      const found = await users.findByEmail(req.email.trim());
      // Same work and the same answer for an unknown email and a wrong password.
      const valid = await verifyPassword(req.password, found?.passwordHash ?? (await decoyHash));
      if (!found || !valid)
        throw unauthenticated("email or password is incorrect", "INVALID_CREDENTIALS");
      return { session: await newSession(found.user) };
    },

    async refreshToken(req) {
      const next = tokens.newRefreshToken();
      const outcome = await sessions.rotate(hashRefreshToken(req.refreshToken), {
        tokenHash: next.hash,
        expiresAt: next.expiresAt,
      });
      if (outcome.kind === "reused") {
        throw unauthenticated(
          "refresh token was already used; every session it led to is signed out",
          "REFRESH_TOKEN_REUSED",
        );
      }
      if (outcome.kind !== "rotated")
        throw unauthenticated("refresh token is not valid; sign in again", "REFRESH_TOKEN_INVALID");
      const user = await users.get(outcome.userId);
      if (!user) throw unauthenticated("the account no longer exists", "REFRESH_TOKEN_INVALID");
      return { session: await sessionMessage(user, next) };
    },

    async logOut(req) {
      await sessions.revokeFamily(hashRefreshToken(req.refreshToken));
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
