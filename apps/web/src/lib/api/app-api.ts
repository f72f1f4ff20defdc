import { type ApiClients, createApiClients } from "./api-clients.js";
import { createSession, type SessionState, sessionStorageKey } from "./session.svelte.js";
import { resolveTransportKind } from "./transport-kind.js";

/** The clients and session of the running app. */
export interface AppApi extends ApiClients {
  session: SessionState;
}

let instance: AppApi | undefined;

function localStorageOrNothing(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    // Storage can be switched off; the app then works with a session that lasts one page.
    return undefined;
  }
}

/**
 * The app's API clients, created on first use in the browser: the transport comes from
 * `?transport=`, the remembered choice or the build's `VITE_GROUPPE_TRANSPORT`, and the base
 * URL is the page's origin, where the grouppe server serves both the app and the API.
 */
export function appApi(): AppApi {
  if (instance) return instance;
  const storage = localStorageOrNothing();
  const transportKind = resolveTransportKind({
    search: window.location.search,
    storage,
    buildDefault: import.meta.env.VITE_GROUPPE_TRANSPORT,
  });
  const session = createSession(storage);
  // Another tab logged out, logged in or rotated the tokens: follow it.
  window.addEventListener("storage", (event) => {
    if (event.key === sessionStorageKey || event.key === null) session.reload();
  });
  instance = {
    ...createApiClients({
      baseUrl: window.location.origin,
      transportKind,
      session,
      locks: typeof navigator.locks?.request === "function" ? navigator.locks : undefined,
    }),
    session,
  };
  return instance;
}
