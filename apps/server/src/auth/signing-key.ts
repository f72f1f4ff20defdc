import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { type CryptoKey, importPKCS8, importSPKI } from "jose";

/** The one algorithm tokens are signed and checked with; anything else is refused. */
export const tokenAlgorithm = "EdDSA";

/** One key of the ring, ready to sign and verify; `kid` goes in every token it signs. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/** Imports a PKCS#8 Ed25519 private key and derives its public half. */
export async function signingKeyFromPem(pem: string, kid: string): Promise<SigningKey> {
  const publicPem = createPublicKey(createPrivateKey(pem))
    .export({ type: "spki", format: "pem" })
    .toString();
  return {
    kid,
    privateKey: await importPKCS8(pem, tokenAlgorithm),
    publicKey: await importSPKI(publicPem, tokenAlgorithm),
  };
}

/** A new Ed25519 private key as PKCS#8 PEM. */
export function generateSigningKeyPem(): string {
  return generateKeyPairSync("ed25519")
    .privateKey.export({ type: "pkcs8", format: "pem" })
    .toString();
}
