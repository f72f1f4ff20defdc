import { keySchedule } from "./key-schedule.js";
import { newStoredSigningKey, type SigningKeyStore } from "./signing-key-store.js";

export interface RotationOptions {
  now: number;
  /**
   * How long after the rotation the new key starts signing. Until then every instance learns
   * of it (they reload the ring every GROUPPE_SIGNING_KEY_RELOAD_MS), so no instance meets a
   * token signed with a key it does not know yet.
   */
  activateInMs: number;
  accessTokenTtlSeconds: number;
  /** Only drop the keys no token needs any more; add none. */
  pruneOnly?: boolean;
  /**
   * For a key that leaked: the new key signs at once and every other key is removed now, so
   * their tokens stop verifying (each instance within its reload interval). Signed-in people
   * are not signed out: their apps trade the refused access token for a new one.
   */
  revoke?: boolean;
}

export interface RotationResult {
  /** The id of the key added, if any, and when it starts signing (epoch ms). */
  added?: { id: string; activateTime: number };
  /** Ids of the keys dropped because every token they signed has expired. */
  removed: string[];
  /** Ids of the keys left, oldest first. */
  kept: string[];
}

/**
 * Rotates the token-signing keys: adds a new key that starts signing `activateInMs` from now,
 * and removes retired keys whose last token has expired. The current key keeps verifying its
 * tokens until they expire, so nobody is signed out by a rotation.
 */
export async function rotateSigningKeys(
  store: SigningKeyStore,
  options: RotationOptions,
): Promise<RotationResult> {
  await store.ensureOne(options.now);
  let added: RotationResult["added"];
  if (options.revoke) {
    const key = newStoredSigningKey(options.now);
    await store.add(key);
    const removed = (await store.list()).map((k) => k.id).filter((id) => id !== key.id);
    await store.remove(removed);
    return { added: { id: key.id, activateTime: key.activateTime }, removed, kept: [key.id] };
  }
  if (!options.pruneOnly) {
    const key = newStoredSigningKey(options.now + options.activateInMs);
    await store.add(key);
    added = { id: key.id, activateTime: key.activateTime };
  }
  const schedule = keySchedule(
    await store.list(),
    options.now,
    options.accessTokenTtlSeconds * 1000,
  );
  const removed = schedule.expired.map((key) => key.id);
  await store.remove(removed);
  return { added, removed, kept: schedule.verifying.map((key) => key.id) };
}
