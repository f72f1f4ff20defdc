/**
 * A cookie jar for the app's API clients when they run in Node, where fetch keeps no cookies:
 * it stores what Set-Cookie says and sends it back to paths under the cookie's Path, as a
 * browser would on the page's own origin.
 */
export interface CookieJar {
  fetch: typeof globalThis.fetch;
  /** The value of a cookie, or undefined when the jar has none by that name. */
  get(name: string): string | undefined;
  set(name: string, value: string, path?: string): void;
}

export function createCookieJar(): CookieJar {
  const cookies = new Map<string, { value: string; path: string }>();
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : {}));
    const matching = [...cookies]
      .filter(([, cookie]) => url.pathname.startsWith(cookie.path))
      .map(([name, cookie]) => `${name}=${cookie.value}`);
    if (matching.length > 0) headers.set("cookie", matching.join("; "));
    const response = await globalThis.fetch(input, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
      const separator = pair.indexOf("=");
      const name = pair.slice(0, separator);
      const path = attributes.find((a) => /^path=/i.test(a))?.slice(5) ?? "/";
      if (attributes.some((a) => /^max-age=0$/i.test(a))) cookies.delete(name);
      else cookies.set(name, { value: pair.slice(separator + 1), path });
    }
    return response;
  };
  return {
    fetch,
    get: (name) => cookies.get(name)?.value,
    set: (name, value, path = "/") => void cookies.set(name, { value, path }),
  };
}
