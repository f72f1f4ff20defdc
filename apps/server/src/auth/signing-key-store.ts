import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Db } from "../store/db.js";
import type { StoredSigningKey } from "./key-schedule.js";
import { generateSigningKeyPem } from "./signing-key.js";

/**
 * Where the ring of token-signing keys is kept, so every instance and the rotation command see
 * the same keys: the `signing_keys` table on PostgreSQL, files in the data directory with
 * PGlite (whose database belongs to the running server; the rotation command must not open it).
 */
export interface SigningKeyStore {
  list(): Promise<StoredSigningKey[]>;
  add(key: StoredSigningKey): Promise<void>;
  remove(ids: readonly string[]): Promise<void>;
  /**
   * Makes the first key when there is none. Instances starting at once on an empty store agree
   * on one key: the first to write it wins and the others read it.
   */
  ensureOne(now: number): Promise<void>;
}

/** A fresh key activating at `activateTime`, with a random id. */
export function newStoredSigningKey(activateTime: number): StoredSigningKey {
  return {
    id: randomBytes(9).toString("base64url"),
    privatePem: generateSigningKeyPem(),
    activateTime,
  };
}

/** The id of the key every new installation starts with; the first key of migration 0002 too. */
const firstKeyId = "access-token";

/** The ring in the `signing_keys` table (migrations 0002 and 0005). */
export function databaseKeyStore(db: Db): SigningKeyStore {
  return {
    async list() {
      const rows = await db.query<{ id: string; private_pem: string; activate_ms: number }>(
        `SELECT id, private_pem, (extract(epoch FROM activate_time) * 1000)::float8 AS activate_ms
         FROM signing_keys`,
      );
      return rows.map((row) => ({
        id: row.id,
        privatePem: row.private_pem,
        activateTime: Math.round(Number(row.activate_ms)),
      }));
    },
    async add(key) {
      await db.query(
        "INSERT INTO signing_keys (id, private_pem, activate_time) VALUES ($1, $2, $3)",
        [key.id, key.privatePem, new Date(key.activateTime)],
      );
    },
    async remove(ids) {
      if (ids.length === 0) return;
      await db.query("DELETE FROM signing_keys WHERE id = ANY($1::text[])", [[...ids]]);
    },
    async ensureOne(now) {
      await db.query(
        `INSERT INTO signing_keys (id, private_pem, activate_time)
         SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM signing_keys)
         ON CONFLICT (id) DO NOTHING`,
        [firstKeyId, generateSigningKeyPem(), new Date(now)],
      );
    },
  };
}

/** The single key file of versions before the ring; it counts as a key active since forever. */
const legacyKeyFile = "jwt-signing-key.pem";

/**
 * The ring as files in `<dataDir>/signing-keys/`, one `<id>.json` per key (mode 0600), written
 * to a temporary name and renamed so that a reader never sees half a key.
 */
export function directoryKeyStore(dataDir: string): SigningKeyStore {
  const dir = join(dataDir, "signing-keys");
  const legacyPath = join(dataDir, legacyKeyFile);
  const pathOf = (id: string) => join(dir, `${id}.json`);

  async function readKey(path: string): Promise<StoredSigningKey | undefined> {
    try {
      const value = JSON.parse(await readFile(path, "utf8")) as Partial<StoredSigningKey>;
      if (
        typeof value.id !== "string" ||
        typeof value.privatePem !== "string" ||
        typeof value.activateTime !== "number"
      ) {
        throw new Error(`${path} is not a signing key`);
      }
      return { id: value.id, privatePem: value.privatePem, activateTime: value.activateTime };
    } catch (error) {
      // Removed by a rotation between listing and reading: simply not there any more.
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async function write(key: StoredSigningKey, flag: "w" | "wx"): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const text = `${JSON.stringify(key, null, 2)}\n`;
    if (flag === "wx") {
      await writeFile(pathOf(key.id), text, { flag, mode: 0o600 });
      return;
    }
    const temporary = join(dir, `.${key.id}.${randomBytes(4).toString("hex")}.tmp`);
    await writeFile(temporary, text, { mode: 0o600 });
    await rename(temporary, pathOf(key.id));
  }

  return {
    async list() {
      const keys: StoredSigningKey[] = [];
      try {
        const legacy = await readFile(legacyPath, "utf8");
        keys.push({ id: "jwt-signing-key", privatePem: legacy, activateTime: 0 });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
      let names: string[] = [];
      try {
        names = await readdir(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
      for (const name of names) {
        if (!name.endsWith(".json") || name.startsWith(".")) continue;
        const key = await readKey(join(dir, name));
        if (key) keys.push(key);
      }
      return keys;
    },
    add: (key) => write(key, "w"),
    async remove(ids) {
      for (const id of ids) {
        await rm(id === "jwt-signing-key" ? legacyPath : pathOf(id), { force: true });
      }
    },
    async ensureOne(now) {
      if ((await this.list()).length > 0) return;
      try {
        await write({ ...newStoredSigningKey(now), id: firstKeyId }, "wx");
      } catch (error) {
        // Another process made the first key a moment ago: keep theirs.
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        await stat(pathOf(firstKeyId));
      }
    },
  };
}

/** The store the server and the rotation command use for this configuration. */
export function signingKeyStoreFor(options: { db?: Db; dataDir: string }): SigningKeyStore {
  return options.db?.kind === "postgres"
    ? databaseKeyStore(options.db)
    : directoryKeyStore(options.dataDir);
}
