/** A key as the ring stores it: the private key and the moment it starts signing. */
export interface StoredSigningKey {
  /** Unique, and the `kid` of every token the key signs. */
  id: string;
  privatePem: string;
  /** From this moment (epoch ms) the key signs new tokens, until a newer key takes over. */
  activateTime: number;
}

/**
 * Slack for clocks of different instances: a key is trusted this much before its activation
 * and this much after the last token it signed expired.
 */
export const clockSkewMs = 60_000;

/** What each key of a ring may do at one moment. */
export interface KeySchedule<K extends StoredSigningKey> {
  /** The key new tokens are signed with: the newest one already active. */
  signing: K;
  /**
   * Keys whose tokens may still be valid, and keys about to become active (an instance whose
   * clock runs ahead may already sign with them): these verify.
   */
  verifying: K[];
  /** Retired keys whose every token has expired: nothing needs them any more. */
  expired: K[];
}

/**
 * Decides which key signs, which verify and which can go, at `now`. A key signs from its
 * activation until the next key's; it last signed a token then, and that token expires one
 * access-token lifetime later, so the key verifies until then (plus {@link clockSkewMs}).
 */
export function keySchedule<K extends StoredSigningKey>(
  keys: readonly K[],
  now: number,
  accessTokenTtlMs: number,
): KeySchedule<K> {
  if (keys.length === 0) throw new Error("the signing key ring is empty");
  const ordered = [...keys].sort(
    (a, b) => a.activateTime - b.activateTime || a.id.localeCompare(b.id),
  );
  let signingIndex = 0;
  ordered.forEach((key, index) => {
    if (key.activateTime <= now) signingIndex = index;
  });
  const verifying: K[] = [];
  const expired: K[] = [];
  ordered.forEach((key, index) => {
    const successor = ordered[index + 1];
    const retired = index < signingIndex && successor !== undefined;
    if (retired && successor.activateTime + accessTokenTtlMs + clockSkewMs <= now) {
      expired.push(key);
    } else {
      verifying.push(key);
    }
  });
  return { signing: ordered[signingIndex] as K, verifying, expired };
}
