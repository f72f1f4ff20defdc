import type { Queryable } from "./db.js";
import { type ChangeNotice, changeChannel } from "./records.js";

/**
 * Queues a {@link ChangeNotice} inside the caller's transaction: PostgreSQL delivers it on
 * commit and drops it on rollback, so listeners hear only of changes that happened.
 */
export async function notifyChange(tx: Queryable, notice: ChangeNotice): Promise<void> {
  await tx.query("SELECT pg_notify($1, $2)", [changeChannel, JSON.stringify(notice)]);
}
