import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Session } from "@grouppe/api";
import type { GrouppeClient } from "@grouppe/client";
import type { CliIo } from "./cli-io.js";
import { type Credentials, loadCredentials, saveCredentials } from "./credentials.js";

/** Refresh an access token this long before it expires, so a call never carries a stale one. */
const refreshMarginMs = 30_000;

/** Turns a session from LogIn or RefreshToken into what the token file keeps. */
export function credentialsOf(address: string, session: Session): Credentials {
  return {
    address,
    accessToken: session.accessToken,
    accessTokenExpireTime: session.accessTokenExpireTime
      ? timestampDate(session.accessTokenExpireTime).toISOString()
      : new Date(0).toISOString(),
    refreshToken: session.refreshToken,
    user: {
      id: session.user?.id ?? "",
      email: session.user?.email ?? "",
      displayName: session.user?.displayName ?? "",
    },
  };
}

/**
 * The bearer token for a command: GROUPPE_TOKEN when set, else the one `grouppe login` saved,
 * refreshed (and saved again, since refresh tokens rotate) when it is about to expire.
 */
export function tokenSource(
  io: CliIo,
  /** A client that sends no token, for the refresh call itself. */
  anonymous: () => GrouppeClient,
): () => Promise<string | undefined> {
  let current: Credentials | undefined;
  return async () => {
    if (io.env.GROUPPE_TOKEN) return io.env.GROUPPE_TOKEN;
    current ??= await loadCredentials(io);
    if (current === undefined) return undefined;
    const expiresAt = Date.parse(current.accessTokenExpireTime);
    if (expiresAt - refreshMarginMs > Date.now()) return current.accessToken;
    const { session } = await anonymous().auth.refreshToken({
      refreshToken: current.refreshToken,
    });
    if (session === undefined) return undefined;
    current = credentialsOf(current.address, session);
    await saveCredentials(io, current);
    return current.accessToken;
  };
}
