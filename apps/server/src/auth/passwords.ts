import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/**
 * scrypt's default cost, as log2 of N (OWASP's minimum for scrypt is N=2^17, r=8, p=1; 2^15
 * with r=8 keeps a sign-in near 50-100 ms of CPU on a small machine while using 32 MiB, which
 * is what makes scrypt expensive to attack). The parameters are stored with each hash, so a
 * changed cost only affects new hashes and every stored one still verifies.
 */
export const defaultPasswordCost = 15;

const r = 8;
const p = 1;
const keyLength = 32;

function derive(
  password: string,
  salt: Buffer,
  params: { N: number; r: number; p: number },
  length: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize("NFKC"),
      salt,
      length,
      { ...params, maxmem: 256 * params.N * params.r },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/** Checks a password against a stored hash in constant time. A malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, storedR, storedP, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const params = { N: Number(n), r: Number(storedR), p: Number(storedP) };
  const key = await derive(password, Buffer.from(salt, "base64url"), params, expected.length);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Hashes new passwords at one cost, and checks any stored hash. */
export interface PasswordHasher {
  /** `scrypt$N$r$p$salt$hash` (base64url), with a random 16-byte salt. */
  hash(password: string): Promise<string>;
  /**
   * Checks `password` against `stored`; without a stored hash (an unknown email) it checks a
   * decoy of the same cost, so "no such user" takes as long as "wrong password" and always fails.
   */
  verify(password: string, stored: string | undefined): Promise<boolean>;
}

/** A hasher whose new hashes cost 2^`cost` (log2 of scrypt's N). */
export function createPasswordHasher(cost: number = defaultPasswordCost): PasswordHasher {
  const N = 2 ** cost;
  const hash = async (password: string) => {
    const salt = randomBytes(16);
    const key = await derive(password, salt, { N, r, p }, keyLength);
    return ["scrypt", N, r, p, salt.toString("base64url"), key.toString("base64url")].join("$");
  };
  let decoy: Promise<string> | undefined;
  return {
    hash,
    async verify(password, stored) {
      if (stored !== undefined) return verifyPassword(password, stored);
      decoy ??= hash(randomBytes(18).toString("base64url"));
      await verifyPassword(password, await decoy);
      return false;
    },
  };
}
