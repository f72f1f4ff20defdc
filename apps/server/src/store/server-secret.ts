import { randomBytes } from "node:crypto";
import type { Queryable } from "./db.js";

/** Bytes of a new secret: as long as the SHA-256 block it keys. */
const secretBytes = 32;

/**
 * The secret called `name`, the same on every instance: the first to ask makes it (a lost race
 * keeps the winner's), everyone reads it from `server_secrets`.
 */
export async function serverSecret(db: Queryable, name: string): Promise<Buffer> {
  await db.query(
    "INSERT INTO server_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    [name, randomBytes(secretBytes)],
  );
  const [row] = await db.query<{ secret: Uint8Array }>(
    "SELECT secret FROM server_secrets WHERE name = $1",
    [name],
  );
  if (!row) throw new Error(`server secret ${name} missing after insert`);
  return Buffer.from(row.secret);
}
