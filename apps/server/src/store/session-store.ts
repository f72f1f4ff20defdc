import type { Db } from "./db.js";
import type { SessionStore } from "./stores.js";

interface TokenRow {
  user_id: string;
  family_id: string;
  used_at: Date | null;
  revoked_at: Date | null;
  expired: boolean;
}

/** The {@link SessionStore} on either engine. */
export function createSessionStore(db: Db): SessionStore {
  return {
    async create({ userId, familyId, tokenHash, expiresAt }) {
      await db.query(
        "INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at) VALUES ($1, $2, $3, $4)",
        [tokenHash, familyId, userId, expiresAt],
      );
    },

    rotate(tokenHash, next) {
      return db.transaction(async (tx) => {
        // The row lock makes two presentations of one token take turns: the first rotates,
        // the second finds it used.
        const [rotated] = await tx.query<{ user_id: string; family_id: string }>(
          `UPDATE refresh_tokens SET used_at = now()
           WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
           RETURNING user_id, family_id`,
          [tokenHash],
        );
        if (rotated) {
          await tx.query(
            "INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at) VALUES ($1, $2, $3, $4)",
            [next.tokenHash, rotated.family_id, rotated.user_id, next.expiresAt],
          );
          return { kind: "rotated", userId: rotated.user_id, familyId: rotated.family_id } as const;
        }
        const [token] = await tx.query<TokenRow>(
          `SELECT user_id, family_id, used_at, revoked_at, expires_at <= now() AS expired
           FROM refresh_tokens WHERE token_hash = $1`,
          [tokenHash],
        );
        if (!token) return { kind: "unknown" } as const;
        if (token.used_at !== null || token.revoked_at !== null) {
          await tx.query(
            "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
            [token.family_id],
          );
          return { kind: "reused" } as const;
        }
        return { kind: "expired" } as const;
      });
    },

    async revokeFamily(tokenHash) {
      await db.query(
        `UPDATE refresh_tokens SET revoked_at = now()
         WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1) AND revoked_at IS NULL`,
        [tokenHash],
      );
    },
  };
}
