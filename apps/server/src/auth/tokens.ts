import { createHash, randomBytes, randomUUID } from "node:crypto";
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from "jose";
import type { TokenKeys } from "./key-ring.js";
import { tokenAlgorithm } from "./signing-key.js";

/** What a valid access token says. */
export interface AccessClaims {
  userId: string;
  expiresAt: Date;
}

export interface TokenOptions {
  /** The key ring: which key signs, which verify. */
  keys: TokenKeys;
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** For tests: the clock. */
  now?: () => number;
}

/** Why an access token was refused; the caller only learns "invalid" or "expired". */
export class InvalidTokenError extends Error {
  override readonly name = "InvalidTokenError";
  constructor(readonly expired: boolean) {
    super(expired ? "access token expired" : "access token invalid");
  }
}

/**
 * Issues and checks access tokens (short-lived JWTs: algorithm pinned, iss, aud, exp, nbf
 * checked; `kid` names the key of the ring that signed them) and makes refresh tokens (random,
 * stored only as their SHA-256).
 */
export class Tokens {
  private readonly verified = new Map<string, AccessClaims>();
  private readonly now: () => number;

  constructor(private readonly options: TokenOptions) {
    this.now = options.now ?? Date.now;
    // A key removed from the ring (revoked) must not live on in remembered verdicts.
    options.keys.onRemoved?.(() => this.verified.clear());
  }

  async issueAccessToken(userId: string): Promise<{ token: string; expiresAt: Date }> {
    const now = this.now();
    const issuedAt = Math.floor(now / 1000);
    const expiresAt = issuedAt + this.options.accessTokenTtlSeconds;
    const key = this.options.keys.signing(now);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: tokenAlgorithm, typ: "at+jwt", kid: key.kid })
      .setSubject(userId)
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(expiresAt)
      .setJti(randomUUID())
      .sign(key.privateKey);
    return { token, expiresAt: new Date(expiresAt * 1000) };
  }

  /**
   * Checks an access token. Verified tokens are remembered until they expire, so the hot path
   * pays for the signature check once per token, not once per call.
   */
  async verifyAccessToken(token: string): Promise<AccessClaims> {
    const known = this.verified.get(token);
    if (known) {
      if (known.expiresAt.getTime() > this.now()) return known;
      this.verified.delete(token);
      throw new InvalidTokenError(true);
    }
    const now = this.now();
    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      if (header.kid !== undefined && typeof header.kid !== "string") throw new Error("kid");
      kid = header.kid;
    } catch {
      throw new InvalidTokenError(false);
    }
    let failure: unknown = new Error(`no key with id ${kid}`);
    for (const publicKey of await this.options.keys.verifying(kid, now)) {
      try {
        const { payload } = await jwtVerify(token, publicKey, {
          algorithms: [tokenAlgorithm],
          issuer: this.options.issuer,
          audience: this.options.audience,
          requiredClaims: ["sub", "exp", "nbf", "iat"],
          typ: "at+jwt",
          currentDate: new Date(now),
        });
        const claims = {
          userId: String(payload.sub),
          expiresAt: new Date(Number(payload.exp) * 1000),
        };
        this.remember(token, claims);
        return claims;
      } catch (error) {
        // Only the right key can tell that a token expired; another key's refusal says less.
        if (!(failure instanceof joseErrors.JWTExpired)) failure = error;
      }
    }
    throw new InvalidTokenError(failure instanceof joseErrors.JWTExpired);
  }

  private remember(token: string, claims: AccessClaims): void {
    // Bounded: drop the oldest entries rather than grow with every token ever seen.
    if (this.verified.size >= 10_000) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(token, claims);
  }

  /** A new refresh token and what is stored of it. */
  newRefreshToken(): { token: string; hash: string; expiresAt: Date } {
    const token = randomBytes(32).toString("base64url");
    return {
      token,
      hash: hashRefreshToken(token),
      expiresAt: new Date(this.now() + this.options.refreshTokenTtlSeconds * 1000),
    };
  }
}

/** Refresh tokens are high-entropy random strings, so a plain SHA-256 is the right hash. */
export function hashRefreshToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
