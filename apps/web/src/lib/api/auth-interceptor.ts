import type { DescMethod } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type Interceptor,
  type StreamRequest,
  type StreamResponse,
  type UnaryRequest,
} from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { errorReason } from "./error-messages.js";
import type { SessionState, StoredSession } from "./session.svelte.js";
import type { SessionRefresher } from "./session-refresher.js";

/** What the auth interceptor needs. */
export interface AuthInterceptorOptions {
  session: SessionState;
  refresher: SessionRefresher;
  /**
   * Methods that never carry the access token: the ones that start or end a session. A stale
   * token on them could only get in the way of signing in.
   */
  sessionMethods?: ReadonlySet<DescMethod>;
  now?: () => number;
}

/** An access token this close to its expiry is refreshed before it is sent. */
const expiryLeewayMs = 5_000;

const refreshableReasons = new Set(["TOKEN_EXPIRED", "TOKEN_INVALID"]);

/**
 * Sends the access token as `Authorization: Bearer …`. A token the clock says has expired is
 * refreshed before the call; a call the server refuses as UNAUTHENTICATED because the token it
 * carried expired (or no longer verifies) is retried once after one shared refresh. Streams are
 * retried too, as long as the server refused them before sending anything. When the session
 * cannot be renewed it ends, and the call goes out signed out: open methods still answer.
 */
export function createAuthInterceptor(options: AuthInterceptorOptions): Interceptor {
  const { session, refresher, sessionMethods = new Set(), now = Date.now } = options;

  async function usableSession(): Promise<StoredSession | null> {
    const current = session.current;
    if (current && current.accessTokenExpiresAt - expiryLeewayMs <= now()) {
      return refresher.refresh(current);
    }
    return current;
  }

  function shouldRefresh(error: unknown, sent: StoredSession | null): sent is StoredSession {
    if (!sent || !(error instanceof ConnectError) || error.code !== Code.Unauthenticated) {
      return false;
    }
    const reason = errorReason(error);
    return (
      (reason !== undefined && refreshableReasons.has(reason)) || sent.accessTokenExpiresAt <= now()
    );
  }

  return (next) => async (req) => {
    if (sessionMethods.has(req.method)) return next(req);
    const messages = req.stream ? await collect(req.message) : undefined;
    const send = (sent: StoredSession | null) => {
      const header = new Headers(req.header);
      if (sent) header.set("Authorization", `Bearer ${sent.accessToken}`);
      else header.delete("Authorization");
      if (req.stream) {
        return next({
          ...req,
          header,
          message: createAsyncIterable(messages ?? []),
        } as StreamRequest);
      }
      return next({ ...req, header } as UnaryRequest);
    };
    const retry = async (sent: StoredSession) => send(await refresher.refresh(sent));

    const sent = await usableSession();
    let res: Awaited<ReturnType<typeof send>>;
    try {
      res = await send(sent);
    } catch (error) {
      if (!shouldRefresh(error, sent)) throw error;
      return retry(sent);
    }
    if (!res.stream || !sent) return res;
    const first = res;
    async function* retryingStream() {
      let received = false;
      try {
        for await (const message of first.message) {
          received = true;
          yield message;
        }
      } catch (error) {
        if (received || !shouldRefresh(error, sent)) throw error;
        const again = (await retry(sent as StoredSession)) as StreamResponse;
        yield* again.message;
      }
    }
    return { ...first, message: retryingStream() } as StreamResponse;
  };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}
