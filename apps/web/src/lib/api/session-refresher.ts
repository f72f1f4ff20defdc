import { Code, ConnectError } from "@connectrpc/connect";
import type { Session } from "@grouppe/api";
import { errorReason } from "./error-messages.js";
import { type SessionState, type StoredSession, storedSessionFrom } from "./session.svelte.js";

/** Trades a stale session for a fresh one, at most one trade at a time. */
export interface SessionRefresher {
  /**
   * A session newer than `stale`: the one another call or tab already fetched, or a fresh one
   * from RefreshToken. Null when the session cannot be renewed (then it is cleared).
   */
  refresh(stale: StoredSession): Promise<StoredSession | null>;
  /** How many RefreshToken calls this refresher made. */
  readonly refreshCount: number;
}

/** What a refresher needs. */
export interface SessionRefresherOptions {
  session: SessionState;
  /**
   * Calls AuthService.RefreshToken without the auth interceptor; the browser sends the refresh
   * cookie along.
   */
  callRefreshToken: () => Promise<Session | undefined>;
  /**
   * Web Locks, so tabs sharing one refresh cookie take turns: refresh tokens work once, and a
   * second use would sign the person out everywhere.
   */
  locks?: Pick<LockManager, "request">;
}

const lockName = "grouppe.session.refresh";

/**
 * Creates the single-flight refresher: concurrent calls that find the access token expired
 * share one RefreshToken call. The server rotates the refresh cookie, which every tab shares;
 * each tab keeps its own access token in memory.
 */
export function createSessionRefresher(options: SessionRefresherOptions): SessionRefresher {
  const { session, callRefreshToken, locks } = options;
  let inFlight: Promise<StoredSession | null> | undefined;
  let refreshCount = 0;

  async function rotate(stale: StoredSession): Promise<StoredSession | null> {
    // Another tab may have logged out or switched user while this one waited for the lock.
    const latest = session.reload();
    if (!latest) return null;
    if (latest.accessToken !== stale.accessToken) return latest;
    try {
      refreshCount += 1;
      const fresh = storedSessionFrom(await callRefreshToken());
      session.set(fresh);
      return fresh;
    } catch (error) {
      const connectError = ConnectError.from(error);
      if (connectError.code === Code.Unauthenticated) {
        const reused = errorReason(connectError) === "REFRESH_TOKEN_REUSED";
        session.clear(reused ? "revoked" : "expired");
        return null;
      }
      throw connectError;
    }
  }

  function exclusive(stale: StoredSession): Promise<StoredSession | null> {
    if (!locks) return rotate(stale);
    return locks.request(lockName, { mode: "exclusive" }, () => rotate(stale));
  }

  return {
    refresh(stale) {
      const current = session.current;
      if (current && current.accessToken !== stale.accessToken) return Promise.resolve(current);
      if (!current) return Promise.resolve(null);
      inFlight ??= exclusive(stale).finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    get refreshCount() {
      return refreshCount;
    },
  };
}
