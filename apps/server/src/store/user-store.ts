import { randomUUID } from "node:crypto";
import { DomainError } from "../domain/domain-error.js";
import type { Db } from "./db.js";
import { isUuid } from "./is-uuid.js";
import type { UserRecord } from "./records.js";
import { sqlErrorOf, sqlState } from "./sql-error.js";
import type { UserStore } from "./stores.js";

interface UserRow {
  id: string;
  email: string;
  display_name: string;
  create_time: Date;
  password_hash: string;
}

function toUserRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    createTime: row.create_time,
  };
}

/** The {@link UserStore} on either engine. Emails keep their case but are unique without it. */
export function createUserStore(db: Db): UserStore {
  return {
    async create({ email, displayName, passwordHash }) {
      try {
        const [row] = await db.query<UserRow>(
          `INSERT INTO users (id, email, display_name, password_hash) VALUES ($1, $2, $3, $4)
           RETURNING id, email, display_name, create_time, password_hash`,
          [randomUUID(), email, displayName, passwordHash],
        );
        if (!row) throw new Error("INSERT INTO users returned no row");
        return toUserRecord(row);
      } catch (error) {
        const { code, constraint } = sqlErrorOf(error);
        if (
          code === sqlState.uniqueViolation &&
          (constraint === undefined || constraint === "users_email_key")
        ) {
          throw new DomainError("EMAIL_TAKEN", "an account with this email exists", "email");
        }
        throw error;
      }
    },

    async get(id) {
      if (!isUuid(id)) return undefined;
      const [row] = await db.query<UserRow>(
        "SELECT id, email, display_name, create_time, password_hash FROM users WHERE id = $1",
        [id],
      );
      return row && toUserRecord(row);
    },

    async findByEmail(email) {
      const [row] = await db.query<UserRow>(
        "SELECT id, email, display_name, create_time, password_hash FROM users WHERE lower(email) = lower($1)",
        [email],
      );
      return row && { user: toUserRecord(row), passwordHash: row.password_hash };
    },
  };
}
