import { AuthService } from "@grouppe/api";

/**
 * The request header with which a browser app asks to keep its refresh token in an HttpOnly
 * cookie instead of receiving it in the response body. Any other caller (gRPC services, the
 * CLI, curl) keeps getting the token in the body and never sees a cookie.
 */
export const sessionModeHeader = "x-grouppe-session";
/** The value of {@link sessionModeHeader} that selects the cookie. */
export const cookieSessionMode = "cookie";

/** The cookie's name. */
export const refreshCookieName = "grouppe_refresh";

/**
 * The cookie is sent only to AuthService: RefreshToken reads it, LogOut ends it. No event call,
 * page or asset request ever carries it.
 */
export const refreshCookiePath = `/${AuthService.typeName}/`;

/** Whether the call asked for the cookie session. */
export function wantsCookieSession(requestHeader: Headers): boolean {
  return requestHeader.get(sessionModeHeader)?.trim().toLowerCase() === cookieSessionMode;
}

/** The refresh token in the request's Cookie header, or "" when there is none. */
export function refreshTokenFromCookie(requestHeader: Headers): string {
  const cookie = requestHeader.get("cookie");
  if (!cookie) return "";
  for (const part of cookie.split(";")) {
    const separator = part.indexOf("=");
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() !== refreshCookieName) continue;
    const value = part.slice(separator + 1).trim();
    // Refresh tokens are base64url; anything else is not one of ours.
    return /^[A-Za-z0-9_-]{1,512}$/.test(value) ? value : "";
  }
  return "";
}

function cookie(value: string, maxAgeSeconds: number): string {
  return [
    `${refreshCookieName}=${value}`,
    `Path=${refreshCookiePath}`,
    `Max-Age=${maxAgeSeconds}`,
    "HttpOnly",
    "Secure",
    "SameSite=Strict",
  ].join("; ");
}

/** Set-Cookie for a new refresh token that expires at `expiresAt`. */
export function refreshCookie(token: string, expiresAt: Date, now: number = Date.now()): string {
  return cookie(token, Math.max(0, Math.floor((expiresAt.getTime() - now) / 1000)));
}

/** Set-Cookie that makes the browser forget the refresh token. */
export function clearedRefreshCookie(): string {
  return cookie("", 0);
}
