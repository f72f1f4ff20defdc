import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Session } from "@grouppe/api";

/** The signed-in person, as the session shows them. */
export interface SessionUser {
  id: string;
  email: string;
  displayName: string;
}

/**
 * A session as the app holds it: plain JSON, times in epoch milliseconds. The access token lives
 * in memory only; the refresh token never reaches the page at all: the server keeps it in an
 * HttpOnly cookie that only AuthService's RefreshToken and LogOut receive. After a reload the
 * access token is empty (expired at 0) until the first call trades the cookie for a new one.
 */
export interface StoredSession {
  accessToken: string;
  accessTokenExpiresAt: number;
  refreshTokenExpiresAt: number;
  user: SessionUser;
}

/** Why a session ended without the person logging out; shown once on the log-in page. */
export type SessionEndReason = "expired" | "revoked";

/** The reactive session: who is signed in and their access token; survives reloads. */
export interface SessionState {
  readonly current: StoredSession | null;
  readonly user: SessionUser | null;
  /** Set when the session ended on its own (a refresh failed); cleared by the next sign-in. */
  readonly endReason: SessionEndReason | null;
  /** Starts a session (sign-up, log-in) or replaces it (a refresh renewed the access token). */
  set(session: StoredSession): void;
  /** Forgets the session: log-out, or `reason` when it ended on its own. */
  clear(reason?: SessionEndReason): void;
  /** Re-reads storage, where another tab may have signed in, switched user or logged out. */
  reload(): StoredSession | null;
}

/**
 * The localStorage key under which the app remembers who is signed in, so a reload shows them
 * at once. It holds no token: only the user and when the refresh cookie expires.
 */
export const sessionStorageKey = "grouppe.session";

/** What localStorage keeps of a session. */
interface RememberedSession {
  user: SessionUser;
  refreshTokenExpiresAt: number;
}

/** A session message from SignUp, LogIn or RefreshToken in the form we keep. */
export function storedSessionFrom(session: Session | undefined): StoredSession {
  if (!session?.user || !session.accessToken) {
    throw new Error("the server answered without a complete session");
  }
  return {
    accessToken: session.accessToken,
    accessTokenExpiresAt: session.accessTokenExpireTime
      ? timestampMs(session.accessTokenExpireTime)
      : 0,
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

function parseRemembered(text: string | null): RememberedSession | null {
  if (!text) return null;
  try {
    const value = JSON.parse(text) as Partial<RememberedSession> | null;
    const user = value?.user;
    if (
      typeof value?.refreshTokenExpiresAt !== "number" ||
      typeof user?.id !== "string" ||
      typeof user.displayName !== "string" ||
      typeof user.email !== "string"
    ) {
      return null;
    }
    return {
      user: { id: user.id, email: user.email, displayName: user.displayName },
      refreshTokenExpiresAt: value.refreshTokenExpiresAt,
    };
  } catch {
    return null;
  }
}

/** The only thing written to storage: who, and until when the cookie can renew them. */
function serialize({ user, refreshTokenExpiresAt }: RememberedSession): string {
  return JSON.stringify({
    user: { id: user.id, email: user.email, displayName: user.displayName },
    refreshTokenExpiresAt,
  });
}

/** A remembered session before its first refresh: no access token yet. */
function unrefreshed(remembered: RememberedSession): StoredSession {
  return { ...remembered, accessToken: "", accessTokenExpiresAt: 0 };
}

type SessionStorage = Pick<Storage, "getItem" | "setItem" | "removeItem">;

/**
 * Creates the session state over a Storage (localStorage in the app). A session whose refresh
 * cookie has expired is dropped on load: nothing could renew it. Older versions of the app kept
 * tokens in storage; they are wiped on load.
 */
export function createSession(
  storage: SessionStorage | undefined,
  now: () => number = Date.now,
): SessionState {
  const read = (): RememberedSession | null => {
    const text = storage?.getItem(sessionStorageKey) ?? null;
    const remembered = parseRemembered(text);
    if (
      !remembered ||
      (remembered.refreshTokenExpiresAt !== 0 && remembered.refreshTokenExpiresAt <= now())
    ) {
      if (text !== null) storage?.removeItem(sessionStorageKey);
      return null;
    }
    // Anything more than the user and the expiry (tokens an older version kept) is wiped.
    if (text !== serialize(remembered)) remember(remembered);
    return remembered;
  };
  const remember = (session: RememberedSession) =>
    storage?.setItem(sessionStorageKey, serialize(session));
  const initial = read();
  let current = $state<StoredSession | null>(initial && unrefreshed(initial));
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
      remember(session);
      current = session;
      endReason = null;
    },
    clear(reason) {
      storage?.removeItem(sessionStorageKey);
      current = null;
      endReason = reason ?? null;
    },
    reload() {
      const remembered = read();
      if (!remembered) current = null;
      else if (remembered.user.id !== current?.user.id) current = unrefreshed(remembered);
      return current;
    },
  };
}
