import type { WatchEventsResponse } from "@grouppe/api";
import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { Db } from "../store/db.js";
import type { EventStore } from "../store/stores.js";
import { Broker } from "./broker.js";
import { startChangeFeed } from "./change-feed.js";
import type { EventChange } from "./live-messages.js";
import { createWatchHandlers, type WatchHandlers } from "./watch-handlers.js";

/** What live updates need from the rest of the server. */
export interface LiveDeps {
  db: Db;
  /** What the change feed reads each changed event from: never a cached copy. */
  events: EventStore;
  /**
   * What a new watch stream reads its first snapshot from; may be a read cache. The stream
   * subscribes before it reads, so a change the cached copy does not show yet still reaches it.
   */
  snapshots: Pick<EventStore, "get">;
  config: Config["live"];
  /** Aborts when the server shuts down; every watch stream then ends with UNAVAILABLE. */
  shutdown: AbortSignal;
  logger: Logger;
}

/** Live updates: the two watch handlers for EventService, backed by the change feed. */
export interface Live extends WatchHandlers {
  /** Stops listening for changes and ends every watch stream with UNAVAILABLE. */
  close(): Promise<void>;
}

/**
 * Starts live updates: listens for committed changes (resolves once listening) and returns
 * the WatchEvent and WatchEvents handlers to mount on EventService.
 */
export async function createLive(deps: LiveDeps): Promise<Live> {
  const logger = deps.logger.child({ component: "live" });
  const brokerOptions = { queueLimit: deps.config.queueLimit };
  const eventBroker = new Broker<EventChange>(brokerOptions);
  const feedBroker = new Broker<WatchEventsResponse>(brokerOptions);
  const closing = new AbortController();
  const feed = await startChangeFeed({
    db: deps.db,
    events: deps.events,
    eventBroker,
    feedBroker,
    logger,
  });
  const handlers = createWatchHandlers({
    events: deps.snapshots,
    eventBroker,
    feedBroker,
    config: deps.config,
    shutdown: AbortSignal.any([deps.shutdown, closing.signal]),
    logger,
  });
  return {
    ...handlers,
    async close() {
      closing.abort();
      await feed.close();
    },
  };
}

export type { WatchHandlers } from "./watch-handlers.js";
