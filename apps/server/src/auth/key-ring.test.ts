import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, postgresAvailable } from "@grouppe/testkit";
import { decodeProtectedHeader, importPKCS8, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMigratedTestDatabase,
  type MigratedTestDatabase,
} from "../../test/support/migrated-database.js";
import type { Db } from "../store/db.js";
import { migrate } from "../store/migrate.js";
import { migrations } from "../store/migrations/index.js";
import { openPostgresDb } from "../store/postgres-db.js";
import { KeyRing } from "./key-ring.js";
import { rotateSigningKeys } from "./rotate-signing-keys.js";
import { generateSigningKeyPem, tokenAlgorithm } from "./signing-key.js";
import { databaseKeyStore, directoryKeyStore, type SigningKeyStore } from "./signing-key-store.js";
import { InvalidTokenError, Tokens } from "./tokens.js";

const ttlSeconds = 900;
const activateInMs = 120_000;
const minute = 60_000;
const start = Date.UTC(2030, 0, 1);

const available = await postgresAvailable();
const skip = "skip" in available ? available.skip : undefined;
if (skip) console.warn(`key ring: the PostgreSQL store is not tested: ${skip}`);

let dir: string;
let database: MigratedTestDatabase | undefined;
let db: Db | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "grouppe-keys-"));
  if (skip) return;
  database = await createMigratedTestDatabase();
  db = database.db;
});

afterAll(async () => {
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});

const stores: Record<string, () => SigningKeyStore> = {
  "files in the data directory (PGlite)": () => directoryKeyStore(dir),
};
if (!skip) {
  stores["the signing_keys table (PostgreSQL)"] = () => {
    if (!db) throw new Error("no database");
    return databaseKeyStore(db);
  };
}

/** One server instance: its ring and token issuer, on the test's clock. */
async function instance(store: SigningKeyStore, clock: { now: number }) {
  const ring = await KeyRing.open({
    store,
    accessTokenTtlSeconds: ttlSeconds,
    reloadMs: 3_600_000,
    now: () => clock.now,
  });
  const tokens = () =>
    new Tokens({
      keys: ring,
      issuer: "grouppe",
      audience: "grouppe-api",
      accessTokenTtlSeconds: ttlSeconds,
      refreshTokenTtlSeconds: 3600,
      now: () => clock.now,
    });
  return { ring, tokens };
}

const kidOf = (token: string) => decodeProtectedHeader(token).kid;

async function refusal(tokens: Tokens, token: string): Promise<InvalidTokenError> {
  const error = await tokens.verifyAccessToken(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  return error as InvalidTokenError;
}

/** A token signed with a stored key, as a thief holding that private key would make it. */
async function signWith(pem: string, nowMs: number, kid?: string): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: tokenAlgorithm, typ: "at+jwt", ...(kid ? { kid } : {}) })
    .setSubject("user-1")
    .setIssuer("grouppe")
    .setAudience("grouppe-api")
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(await importPKCS8(pem, tokenAlgorithm));
}

describe.each(Object.entries(stores))("the signing key ring in %s", (_name, makeStore) => {
  it("rotates: the new key signs after its activation, the old one verifies until its tokens expire, then goes", async () => {
    const clock = { now: start };
    const store = makeStore();
    const one = await instance(store, clock);
    const other = await instance(store, clock);
    const [first] = await store.list();
    if (!first) throw new Error("no first key");
    expect(other.ring.ids()).toEqual([first.id]);

    const early = await one.tokens().issueAccessToken("user-1");
    expect(kidOf(early.token)).toBe(first.id);

    clock.now += 10_000;
    const rotation = await rotateSigningKeys(store, {
      now: clock.now,
      activateInMs,
      accessTokenTtlSeconds: ttlSeconds,
    });
    const second = rotation.added;
    if (!second) throw new Error("nothing added");
    expect(second.activateTime).toBe(clock.now + activateInMs);
    expect(rotation.removed).toEqual([]);
    await one.ring.reload();

    // Until its activation the new key only verifies: the other instance may not know it yet.
    clock.now = second.activateTime - 1_000;
    const lastOfFirst = await one.tokens().issueAccessToken("user-1");
    expect(kidOf(lastOfFirst.token)).toBe(first.id);

    clock.now = second.activateTime;
    const fromSecond = await one.tokens().issueAccessToken("user-1");
    expect(kidOf(fromSecond.token)).toBe(second.id);
    // The other instance never reloaded; a token naming a key it lacks makes it read the ring.
    expect((await other.tokens().verifyAccessToken(fromSecond.token)).userId).toBe("user-1");
    expect(other.ring.ids()).toEqual([first.id, second.id]);

    // The first key's last token is good to the end of its lifetime, on every instance.
    clock.now = second.activateTime + ttlSeconds * 1000 - 2_000;
    expect((await other.tokens().verifyAccessToken(lastOfFirst.token)).userId).toBe("user-1");
    expect((await one.tokens().verifyAccessToken(lastOfFirst.token)).userId).toBe("user-1");
    const tooSoon = await rotateSigningKeys(store, {
      now: clock.now,
      activateInMs,
      accessTokenTtlSeconds: ttlSeconds,
      pruneOnly: true,
    });
    expect(tooSoon).toEqual({ added: undefined, removed: [], kept: [first.id, second.id] });

    // Once every token it signed has expired (and a minute of clock skew passed), it is dropped.
    clock.now = second.activateTime + ttlSeconds * 1000 + minute + 1;
    const pruned = await rotateSigningKeys(store, {
      now: clock.now,
      activateInMs,
      accessTokenTtlSeconds: ttlSeconds,
      pruneOnly: true,
    });
    expect(pruned).toEqual({ added: undefined, removed: [first.id], kept: [second.id] });
    expect((await store.list()).map((key) => key.id)).toEqual([second.id]);
    // Even a fresh token made with the dropped key, with or without its kid, is refused.
    const stolen = await signWith(first.privatePem, clock.now, first.id);
    expect((await refusal(one.tokens(), stolen)).expired).toBe(false);
    expect((await refusal(other.tokens(), stolen)).expired).toBe(false);
    const unnamed = await signWith(first.privatePem, clock.now);
    expect((await refusal(one.tokens(), unnamed)).expired).toBe(false);
    // Tokens of the current key without a kid (as issued before keys had one) still verify.
    const secondPem = (await store.list()).find((key) => key.id === second.id)?.privatePem;
    const legacy = await signWith(secondPem ?? "", clock.now);
    expect((await one.tokens().verifyAccessToken(legacy)).userId).toBe("user-1");

    one.ring.close();
    other.ring.close();
  });
});

describe("revoking a leaked key", () => {
  it("signs with a new key at once and refuses the old key's tokens, remembered ones too", async () => {
    const revokeDir = await mkdtemp(join(tmpdir(), "grouppe-keys-revoke-"));
    try {
      const store = directoryKeyStore(revokeDir);
      const clock = { now: start };
      const { ring, tokens } = await instance(store, clock);
      const issuer = tokens();
      const before = await issuer.issueAccessToken("user-1");
      expect((await issuer.verifyAccessToken(before.token)).userId).toBe("user-1");

      clock.now += 1_000;
      const result = await rotateSigningKeys(store, {
        now: clock.now,
        activateInMs,
        accessTokenTtlSeconds: ttlSeconds,
        revoke: true,
      });
      expect(result.removed).toEqual(["access-token"]);
      expect(result.added?.activateTime).toBe(clock.now);
      await ring.reload();
      expect((await refusal(issuer, before.token)).expired).toBe(false);
      const after = await issuer.issueAccessToken("user-1");
      expect(kidOf(after.token)).toBe(result.added?.id);
      expect((await issuer.verifyAccessToken(after.token)).userId).toBe("user-1");
      ring.close();
    } finally {
      await rm(revokeDir, { recursive: true, force: true });
    }
  });
});

describe("the key files", () => {
  it("are readable by their owner only, and the key file of older versions joins the ring", async () => {
    const legacyDir = await mkdtemp(join(tmpdir(), "grouppe-keys-legacy-"));
    try {
      const pem = generateSigningKeyPem();
      await writeFile(join(legacyDir, "jwt-signing-key.pem"), pem, { mode: 0o600 });
      const store = directoryKeyStore(legacyDir);
      const clock = { now: start };
      const legacyToken = await signWith(pem, clock.now);
      const { tokens, ring } = await instance(store, clock);
      expect(ring.ids()).toEqual(["jwt-signing-key"]);
      expect((await tokens().verifyAccessToken(legacyToken)).userId).toBe("user-1");
      await rotateSigningKeys(store, {
        now: clock.now,
        activateInMs,
        accessTokenTtlSeconds: ttlSeconds,
      });
      const [name] = await readdir(join(legacyDir, "signing-keys"));
      expect(
        ((await stat(join(legacyDir, "signing-keys", name ?? ""))).mode & 0o777).toString(8),
      ).toBe("600");
      ring.close();
    } finally {
      await rm(legacyDir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(skip !== undefined)("migration 0005 on a database from before the ring", () => {
  it("keeps the one key of migration 0002, active since it was made", async () => {
    const old = await createTestDatabase();
    const oldDb = await openPostgresDb({ url: old.url });
    try {
      await migrate(
        oldDb,
        migrations.filter((migration) => migration.version < 5),
      );
      const pem = generateSigningKeyPem();
      await oldDb.query(
        "INSERT INTO signing_keys (id, private_pem, create_time) VALUES ('access-token', $1, $2)",
        [pem, new Date(start)],
      );
      await migrate(oldDb);
      expect(await databaseKeyStore(oldDb).list()).toEqual([
        { id: "access-token", privatePem: pem, activateTime: start },
      ]);
    } finally {
      await oldDb.close();
      await old.drop();
    }
  });
});
