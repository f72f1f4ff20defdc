import { parseArgs } from "node:util";
import { rotateSigningKeys } from "../auth/rotate-signing-keys.js";
import { signingKeyStoreFor } from "../auth/signing-key-store.js";
import { ConfigError, loadConfig } from "../config.js";
import type { Db } from "../store/db.js";
import { openPostgresDb } from "../store/postgres-db.js";

const usage = `Usage: npm run rotate-keys -- [--activate-in SECONDS] [--prune-only] [--revoke]

Adds a new access-token signing key to the ring the servers share (the signing_keys table on
PostgreSQL, GROUPPE_DATA_DIR/signing-keys with the embedded database), and removes the keys
whose every token has expired. Reads the same environment as the server. Running servers
verify with the new key within GROUPPE_SIGNING_KEY_RELOAD_MS and sign with it once it is
active; tokens of older keys keep working until they expire. Nobody is signed out.

  --activate-in SECONDS  when the new key starts signing (default: twice
                         GROUPPE_SIGNING_KEY_RELOAD_MS, so every server knows it by then)
  --prune-only           add no key; only remove the keys no token needs any more
  --revoke               a key leaked: the new key signs at once and every other key is
                         removed now; their tokens stop verifying (apps refresh them)
  --help                 show this text`;

/** What the command writes; the process's stdout and stderr when run from the shell. */
export interface CommandOutput {
  out(line: string): void;
  err(line: string): void;
}

/** `npm run rotate-keys`; returns the exit code. */
export async function rotateKeysCommand(
  argv: string[],
  env: Record<string, string | undefined>,
  output: CommandOutput,
  now: () => number = Date.now,
): Promise<number> {
  let options: {
    "activate-in"?: string;
    "prune-only": boolean;
    revoke: boolean;
    help: boolean;
  };
  try {
    ({ values: options } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        "activate-in": { type: "string" },
        "prune-only": { type: "boolean", default: false },
        revoke: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    output.err(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (options.help) {
    output.out(usage);
    return 0;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    output.err(error.message);
    return 2;
  }
  if (options.revoke && (options["prune-only"] || options["activate-in"] !== undefined)) {
    output.err("--revoke adds a key that signs at once: no --prune-only, no --activate-in");
    return 2;
  }
  if (config.auth.signingKeyPem !== undefined) {
    output.err(
      "GROUPPE_JWT_KEY_FILE is set: the servers sign with that one key and keep no ring to rotate. Unset it to use the ring.",
    );
    return 2;
  }
  let activateInMs = 2 * config.auth.keyReloadMs;
  const activateIn = options["activate-in"];
  if (activateIn !== undefined) {
    if (!/^\d{1,7}$/.test(activateIn)) {
      output.err(`--activate-in=${JSON.stringify(activateIn)}: expected whole seconds`);
      return 2;
    }
    activateInMs = Number(activateIn) * 1000;
  }

  let db: Db | undefined;
  try {
    if (config.databaseUrl) db = await openPostgresDb({ url: config.databaseUrl });
    const store = signingKeyStoreFor({ db, dataDir: config.dataDir });
    const result = await rotateSigningKeys(store, {
      now: now(),
      activateInMs,
      accessTokenTtlSeconds: config.auth.accessTokenTtlSeconds,
      pruneOnly: options["prune-only"],
      revoke: options.revoke,
    });
    if (result.added) {
      output.out(
        `added key ${result.added.id}; it signs from ${new Date(result.added.activateTime).toISOString()}`,
      );
    }
    output.out(`removed: ${result.removed.join(", ") || "none"}`);
    output.out(`keys in the ring: ${result.kept.join(", ")}`);
    return 0;
  } finally {
    await db?.close();
  }
}
