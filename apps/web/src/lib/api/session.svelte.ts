import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Session } from "@grouppe/api";

/** The signed-in person, as the session shows them. */
export interface SessionUser {
  id: string;
  email: string;
  displayName: string;
}

/** A session as kept in localStorage: plain JSON, times in epoch milliseconds. */
export interface StoredSession {
  accessToken: string;
  accessTokenExpiresAt: number;
  refreshToken: string;
  refreshTokenExpiresAt: number;
  user: SessionUser;
}

/** Why a session ended without the person logging out; shown once on the log-in page. */
export type SessionEndReason = "expired" | "revoked";

/** The reactive session: who is signed in, with their tokens, persisted across reloads. */
export interface SessionState {
  readonly current: StoredSession | null;
  readonly user: SessionUser | null;
  /** Set when the session ended on its own (a refresh failed); cleared by the next sign-in. */
  readonly endReason: SessionEndReason | null;
  /** Starts a session (sign-up, log-in) or replaces it (a refresh rotated the tokens). */
  set(session: StoredSession): void;
  /** Forgets the session: log-out, or `reason` when it ended on its own. */
  clear(reason?: SessionEndReason): void;
  /** Re-reads storage, where another tab may have rotated or ended the session. */
  reload(): StoredSession | null;
}

/** The localStorage key of the session. */
export const sessionStorageKey = "grouppe.session";

/** A session message from SignUp, LogIn or RefreshToken in the form we keep. */
export function storedSessionFrom(session: Session | undefined): StoredSession {
  if (!session?.user || !session.accessToken || !session.refreshToken) {
    throw new Error("the server answered without a complete session");
  }
  return {
    accessToken: session.accessToken,
    accessTokenExpiresAt: session.accessTokenExpireTime
      ? timestampMs(session.accessTokenExpireTime)
      : 0,
    refreshToken: session.refreshToken,
    refreshTokenExpiresAt: session.refreshTokenExpireTime
      ? timestampMs(session.refreshTokenExpireTime)
      : 0,
    user: {
      id: session.user.id,
      email: session.user.email,
      displayName: session.user.displayName,
    },
  };
}

function parseStored(text: string | null): StoredSession | null {
  if (!text) return null;
  try {
    const value = JSON.parse(text) as Partial<StoredSession> | null;
    const user = value?.user;
    if (
      typeof value?.accessToken !== "string" ||
      typeof value.refreshToken !== "string" ||
      typeof value.accessTokenExpiresAt !== "number" ||
      typeof value.refreshTokenExpiresAt !== "number" ||
      typeof user?.id !== "string" ||
      typeof user.displayName !== "string" ||
      typeof user.email !== "string"
    ) {
      return null;
    }
    return value as StoredSession;
  } catch {
    return null;
  }
}

type SessionStorage = Pick<Storage, "getItem" | "setItem" | "removeItem">;

/**
 * Creates the session state over a Storage (localStorage in the app). A session whose refresh
 * token has expired is dropped on load: nothing could renew it.
 */
export function createSession(
  storage: SessionStorage | undefined,
  now: () => number = Date.now,
): SessionState {
  const read = (): StoredSession | null => {
    const stored = parseStored(storage?.getItem(sessionStorageKey) ?? null);
    if (stored && stored.refreshTokenExpiresAt !== 0 && stored.refreshTokenExpiresAt <= now()) {
      storage?.removeItem(sessionStorageKey);
      return null;
    }
    return stored;
  };
  let current = $state<StoredSession | null>(read());
  let endReason = $state<SessionEndReason | null>(null);

  return {
    get current() {
      return current;
    },
    get user() {
      return current?.user ?? null;
    },
    get endReason() {
      return endReason;
    },
    set(session) {
      storage?.setItem(sessionStorageKey, JSON.stringify(session));
      current = session;
      endReason = null;
    },
    clear(reason) {
      storage?.removeItem(sessionStorageKey);
      current = null;
      endReason = reason ?? null;
    },
    reload() {
      const stored = read();
      if (stored?.refreshToken !== current?.refreshToken) current = stored;
      return current;
    },
  };
}
