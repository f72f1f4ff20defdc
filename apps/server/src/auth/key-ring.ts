import type { CryptoKey } from "jose";
import { keySchedule, type StoredSigningKey } from "./key-schedule.js";
import { type SigningKey, signingKeyFromPem } from "./signing-key.js";
import type { SigningKeyStore } from "./signing-key-store.js";

/** The keys {@link Tokens} signs and verifies with. */
export interface TokenKeys {
  /** The key new tokens are signed with. */
  signing(now: number): SigningKey;
  /**
   * The public keys that may verify a token: the one named by `kid`, or every verifying key
   * for a token without one (issued before keys had ids). Empty when none may.
   */
  verifying(kid: string | undefined, now: number): Promise<CryptoKey[]>;
  /** Calls `listener` whenever keys leave the ring, so verdicts reached with them are dropped. */
  onRemoved?(listener: () => void): void;
}

/** One fixed key: GROUPPE_JWT_KEY_FILE, and tests. */
export function fixedKey(key: SigningKey): TokenKeys {
  return {
    signing: () => key,
    verifying: async (kid) => (kid === undefined || kid === key.kid ? [key.publicKey] : []),
  };
}

interface LoadedKey extends StoredSigningKey {
  key: SigningKey;
}

export interface KeyRingOptions {
  store: SigningKeyStore;
  accessTokenTtlSeconds: number;
  /** How often the ring is read again to learn of rotations. */
  reloadMs: number;
  /** A token naming an unknown kid reads the ring again, at most this often. Default 5 s. */
  unknownKidReloadMs?: number;
  /** Told when reading the ring in the background fails; the keys known so far stay in use. */
  onError?: (error: unknown) => void;
  /** For tests: the clock. */
  now?: () => number;
}

/**
 * The ring of signing keys, read from its store at start and every `reloadMs` after: the
 * newest active key signs, older keys keep verifying until every token they signed has
 * expired (see {@link keySchedule}), then they are no longer trusted. The rotation command
 * adds keys and removes expired ones; every instance follows within `reloadMs`.
 */
export class KeyRing implements TokenKeys {
  #keys: LoadedKey[] = [];
  #timer: NodeJS.Timeout | undefined;
  #lastLoad = 0;
  #loading: Promise<void> | undefined;
  readonly #removedListeners: (() => void)[] = [];
  readonly #options: KeyRingOptions;
  readonly #now: () => number;

  private constructor(options: KeyRingOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Makes the first key if the store has none, reads the ring and starts reloading it. */
  static async open(options: KeyRingOptions): Promise<KeyRing> {
    const ring = new KeyRing(options);
    await options.store.ensureOne(ring.#now());
    await ring.reload();
    ring.#timer = setInterval(() => {
      ring.reload().catch((error: unknown) => options.onError?.(error));
    }, options.reloadMs);
    ring.#timer.unref();
    return ring;
  }

  /** Reads the store again; keys already imported are kept, not imported twice. */
  reload(): Promise<void> {
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #load(): Promise<void> {
    const stored = await this.#options.store.list();
    if (stored.length === 0) throw new Error("the signing key ring is empty");
    const known = new Map(this.#keys.map((key) => [key.id, key]));
    const keys: LoadedKey[] = [];
    for (const entry of stored) {
      const same = known.get(entry.id);
      keys.push(
        same && same.privatePem === entry.privatePem
          ? { ...same, activateTime: entry.activateTime }
          : { ...entry, key: await signingKeyFromPem(entry.privatePem, entry.id) },
      );
    }
    const removed = this.#keys.some((old) => !keys.some((key) => key.id === old.id));
    this.#keys = keys;
    this.#lastLoad = this.#now();
    if (removed) for (const listener of this.#removedListeners) listener();
  }

  onRemoved(listener: () => void): void {
    this.#removedListeners.push(listener);
  }

  #schedule(now: number) {
    return keySchedule(this.#keys, now, this.#options.accessTokenTtlSeconds * 1000);
  }

  signing(now: number): SigningKey {
    return this.#schedule(now).signing.key;
  }

  async verifying(kid: string | undefined, now: number): Promise<CryptoKey[]> {
    const find = () => {
      const verifying = this.#schedule(now).verifying;
      if (kid === undefined) return verifying.map((entry) => entry.key.publicKey);
      const match = verifying.find((entry) => entry.id === kid);
      return match ? [match.key.publicKey] : [];
    };
    const found = find();
    // A kid this instance has not seen may be a key another instance just added.
    const unknown = kid !== undefined && !this.#keys.some((entry) => entry.id === kid);
    if (!unknown || this.#now() - this.#lastLoad < (this.#options.unknownKidReloadMs ?? 5_000)) {
      return found;
    }
    await this.reload().catch((error: unknown) => this.#options.onError?.(error));
    return find();
  }

  /** The ids of the keys in the ring, oldest first; for logs and tests. */
  ids(): string[] {
    return [...this.#keys].sort((a, b) => a.activateTime - b.activateTime).map((k) => k.id);
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
