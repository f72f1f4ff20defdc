import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type CryptoKey, importPKCS8, importSPKI } from "jose";
import type { Db } from "../store/db.js";

/** The one algorithm tokens are signed and checked with; anything else is refused. */
export const tokenAlgorithm = "EdDSA";

export interface SigningKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

async function fromPrivatePem(pem: string): Promise<SigningKey> {
  const publicPem = createPublicKey(createPrivateKey(pem))
    .export({ type: "spki", format: "pem" })
    .toString();
  return {
    privateKey: await importPKCS8(pem, tokenAlgorithm),
    publicKey: await importSPKI(publicPem, tokenAlgorithm),
  };
}

function generatePem(): string {
  return generateKeyPairSync("ed25519")
    .privateKey.export({ type: "pkcs8", format: "pem" })
    .toString();
}

/**
 * The Ed25519 key access tokens are signed with. From configuration when given; otherwise
 * made on first start and kept where every instance finds it: in the database on PostgreSQL
 * (so tokens from one instance hold on all), in the data directory with PGlite.
 */
export async function loadSigningKey(options: {
  pem?: string;
  db: Db;
  dataDir: string;
}): Promise<SigningKey> {
  if (options.pem) return fromPrivatePem(options.pem);
  if (options.db.kind === "postgres") return fromPrivatePem(await keyFromDatabase(options.db));
  return fromPrivatePem(await keyFromFile(join(options.dataDir, "jwt-signing-key.pem")));
}

async function keyFromFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const pem = generatePem();
  await mkdir(join(path, ".."), { recursive: true });
  try {
    // "wx": if another process won the race, keep its key.
    await writeFile(path, pem, { flag: "wx", mode: 0o600 });
    return pem;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    await chmod(path, 0o600);
    return readFile(path, "utf8");
  }
}

async function keyFromDatabase(db: Db): Promise<string> {
  await db.query(
    "INSERT INTO signing_keys (id, private_pem) VALUES ('access-token', $1) ON CONFLICT (id) DO NOTHING",
    [generatePem()],
  );
  const [row] = await db.query<{ private_pem: string }>(
    "SELECT private_pem FROM signing_keys WHERE id = 'access-token'",
  );
  if (!row) throw new Error("signing key missing after insert");
  return row.private_pem;
}
