import { Code, type ConnectError } from "@connectrpc/connect";
import { grouppeError } from "../errors.js";
import { clientKey } from "../rpc/client-key.js";
import type { Caller, Peer } from "../rpc/context.js";

/** Who a watcher counts against: the user, else the service principal, else the client IP (IPv6 per /64). */
export function watcherOwner(caller: Caller, peer: Peer): string {
  switch (caller.kind) {
    case "user":
      return `user:${caller.userId}`;
    case "service":
      return `service:${caller.principal}`;
    default:
      return `ip:${clientKey(peer.ip)}`;
  }
}

/**
 * Counts open watch streams per owner and in total, and refuses new ones past either cap with
 * RESOURCE_EXHAUSTED, so one client cannot hold all of the process's watchers.
 */
export class WatcherLimits {
  private readonly byOwner = new Map<string, number>();
  private total = 0;

  constructor(private readonly caps: { maxWatchersPerUser: number; maxWatchers: number }) {}

  /** Open watchers in this process. */
  get count(): number {
    return this.total;
  }

  /**
   * Takes a watcher slot for `owner`, or throws RESOURCE_EXHAUSTED. Returns the release
   * function; calling it more than once releases only once.
   */
  admit(owner: string): () => void {
    if (this.total >= this.caps.maxWatchers) {
      throw limitError(
        "WATCHERS_EXHAUSTED",
        `this server has ${this.caps.maxWatchers} open watchers; try again later`,
      );
    }
    const owned = this.byOwner.get(owner) ?? 0;
    if (owned >= this.caps.maxWatchersPerUser) {
      throw limitError(
        "TOO_MANY_WATCHERS",
        `at most ${this.caps.maxWatchersPerUser} open watchers per caller; close one first`,
      );
    }
    this.byOwner.set(owner, owned + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.byOwner.get(owner) ?? 1) - 1;
      if (left === 0) this.byOwner.delete(owner);
      else this.byOwner.set(owner, left);
    };
  }
}

function limitError(reason: string, message: string): ConnectError {
  return grouppeError(Code.ResourceExhausted, reason, message);
}
