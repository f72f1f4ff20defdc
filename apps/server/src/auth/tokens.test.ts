import { generateKeyPairSync } from "node:crypto";
import { importPKCS8, importSPKI, SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { fixedKey } from "./key-ring.js";
import { type SigningKey, tokenAlgorithm } from "./signing-key.js";
import { hashRefreshToken, InvalidTokenError, Tokens } from "./tokens.js";

async function newKey(kid = "k1"): Promise<SigningKey> {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    kid,
    privateKey: await importPKCS8(
      privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      tokenAlgorithm,
    ),
    publicKey: await importSPKI(
      publicKey.export({ type: "spki", format: "pem" }).toString(),
      tokenAlgorithm,
    ),
  };
}

const options = {
  issuer: "grouppe",
  audience: "grouppe-api",
  accessTokenTtlSeconds: 900,
  refreshTokenTtlSeconds: 3600,
};

async function refusal(tokens: Tokens, token: string): Promise<InvalidTokenError> {
  const error = await tokens.verifyAccessToken(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  return error as InvalidTokenError;
}

describe("Tokens", () => {
  it("issues an access token that verifies to its user", async () => {
    const tokens = new Tokens({ keys: fixedKey(await newKey()), ...options });
    const { token, expiresAt } = await tokens.issueAccessToken("user-1");
    const claims = await tokens.verifyAccessToken(token);
    expect(claims.userId).toBe("user-1");
    expect(claims.expiresAt.getTime()).toBe(expiresAt.getTime());
  });

  it("refuses expired tokens, also once they were verified and remembered", async () => {
    let now = Date.now();
    const key = await newKey();
    const tokens = new Tokens({ keys: fixedKey(key), ...options, now: () => now });
    const { token } = await tokens.issueAccessToken("user-1");
    await tokens.verifyAccessToken(token);
    now += 901_000;
    expect((await refusal(tokens, token)).expired).toBe(true);
    const fresh = new Tokens({ keys: fixedKey(key), ...options, now: () => now });
    expect((await refusal(fresh, token)).expired).toBe(true);
  });

  it("refuses tokens that are not yet valid, from another issuer or audience, unsigned, or signed with another key", async () => {
    const key = await newKey();
    const tokens = new Tokens({ keys: fixedKey(key), ...options });
    const now = Math.floor(Date.now() / 1000);
    const sign = (build: (jwt: SignJWT) => SignJWT, signingKey = key) =>
      build(
        new SignJWT({})
          .setProtectedHeader({ alg: tokenAlgorithm, typ: "at+jwt" })
          .setSubject("user-1")
          .setIssuer(options.issuer)
          .setAudience(options.audience)
          .setIssuedAt(now)
          .setNotBefore(now)
          .setExpirationTime(now + 600),
      ).sign(signingKey.privateKey);
    const unsigned = new UnsecuredJWT({
      sub: "user-1",
      iss: options.issuer,
      aud: options.audience,
      nbf: now,
      iat: now,
      exp: now + 600,
    }).encode();
    const cases = [
      await sign((jwt) => jwt.setNotBefore(now + 600)),
      await sign((jwt) => jwt.setIssuer("someone-else")),
      await sign((jwt) => jwt.setAudience("another-api")),
      await sign((jwt) => jwt, await newKey()),
      unsigned,
      "garbage",
    ];
    for (const token of cases) expect((await refusal(tokens, token)).expired).toBe(false);
  });

  it("makes refresh tokens that are stored only as a hash", () => {
    const tokens = new Tokens({ keys: fixedKey({} as SigningKey), ...options });
    const refresh = tokens.newRefreshToken();
    expect(refresh.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(refresh.hash).toBe(hashRefreshToken(refresh.token));
    expect(refresh.hash).not.toContain(refresh.token);
  });
});
