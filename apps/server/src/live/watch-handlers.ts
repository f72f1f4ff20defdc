import {
  Code,
  type ConnectError,
  type HandlerContext,
  type ServiceImpl,
} from "@connectrpc/connect";
import type { EventService, WatchEventsResponse } from "@grouppe/api";
import type { Logger } from "pino";
import type { Config } from "../config.js";
import { DomainError } from "../domain/domain-error.js";
import { eventNotFound, fromDomainError, grouppeError, invalidArgument } from "../errors.js";
import { callerKey, peerKey } from "../rpc/context.js";
import { isUuid } from "../store/is-uuid.js";
import type { EventRecord } from "../store/records.js";
import type { EventStore } from "../store/stores.js";
import type { Broker, Subscription } from "./broker.js";
import {
  allEventsTopic,
  type EventChange,
  eventChange,
  eventHeartbeat,
  feedHeartbeat,
  heartbeatKey,
} from "./live-messages.js";
import { WatcherLimits, watcherOwner } from "./watcher-limits.js";

type EventServiceImpl = ServiceImpl<typeof EventService>;

/** What the watch handlers read from and subscribe to. */
export interface WatchHandlerDeps {
  events: Pick<EventStore, "get">;
  eventBroker: Broker<EventChange>;
  feedBroker: Broker<WatchEventsResponse>;
  config: Config["live"];
  /** Aborts when the server shuts down: every stream then ends with UNAVAILABLE. */
  shutdown: AbortSignal;
  logger: Logger;
}

/** The WatchEvent and WatchEvents implementations, and how many streams they hold open. */
export interface WatchHandlers {
  watchEvent: EventServiceImpl["watchEvent"];
  watchEvents: EventServiceImpl["watchEvents"];
  watcherCount(): number;
}

function shuttingDownError(): ConnectError {
  return grouppeError(Code.Unavailable, "SHUTTING_DOWN", "server is shutting down");
}

/**
 * Builds the two streaming handlers. Each stream takes a watcher slot (per caller and per
 * process), subscribes before it reads anything so no change slips between read and
 * subscription, sends a heartbeat after every quiet `heartbeatMs`, and gives everything back
 * the moment the client goes away.
 */
export function createWatchHandlers(deps: WatchHandlerDeps): WatchHandlers {
  const { events, eventBroker, feedBroker, config, shutdown, logger } = deps;
  const limits = new WatcherLimits(config);

  shutdown.addEventListener(
    "abort",
    () => {
      logger.info({ watchers: limits.count }, "server is shutting down; ending watch streams");
      const error = shuttingDownError();
      eventBroker.endAll(error);
      feedBroker.endAll(error);
    },
    { once: true },
  );

  /**
   * Admits a stream and ties its resources to the call: the returned `release` ends the
   * subscription, stops the heartbeat and frees the slot, on client cancel as well as on return.
   */
  function open<M extends object>(
    context: HandlerContext,
    broker: Broker<M>,
    topic: string,
    heartbeat: () => M,
  ): { subscription: Subscription<M>; keepAlive: () => void; release: () => void } {
    if (shutdown.aborted) throw shuttingDownError();
    const owner = watcherOwner(context.values.get(callerKey), context.values.get(peerKey));
    const releaseSlot = limits.admit(owner);
    const subscription = broker.subscribe(topic, context.signal);
    const timer = setTimeout(function beat() {
      // A watcher cut off for falling behind may not be read again for a long time (its client
      // stopped reading); its slot and timer are given back here rather than waiting for it.
      if (subscription.ended) return release();
      subscription.deliver(heartbeat(), heartbeatKey);
      timer.refresh();
    }, config.heartbeatMs);
    timer.unref();
    const release = (): void => {
      clearTimeout(timer);
      subscription.end();
      releaseSlot();
      context.signal.removeEventListener("abort", release);
    };
    context.signal.addEventListener("abort", release, { once: true });
    return { subscription, keepAlive: () => timer.refresh(), release };
  }

  async function readSnapshot(eventId: string): Promise<EventRecord> {
    let record: EventRecord | undefined;
    try {
      record = await events.get(eventId);
    } catch (error) {
      if (error instanceof DomainError) throw fromDomainError(error);
      throw error;
    }
    if (!record) throw eventNotFound();
    return record;
  }

  const watchEvent: EventServiceImpl["watchEvent"] = async function* (request, context) {
    if (!isUuid(request.id)) {
      throw invalidArgument("id: value must be a valid UUID", [
        { field: "id", description: "value must be a valid UUID", reason: "string.uuid" },
      ]);
    }
    const { subscription, keepAlive, release } = open(
      context,
      eventBroker,
      request.id,
      eventHeartbeat,
    );
    try {
      const record = await readSnapshot(request.id);
      // The snapshot is what every later change is measured against: older ones it already shows.
      let seen = record.version;
      yield eventChange("snapshot", record).response;
      keepAlive();
      for (;;) {
        const change = await subscription.take();
        if (change === undefined) return;
        const kind = change.response.change.case;
        if (kind === "snapshot") {
          if (change.version < seen) continue;
        } else if (kind !== "heartbeat" && kind !== "deleted") {
          if (change.version <= seen) continue;
        }
        seen = Math.max(seen, change.version);
        yield change.response;
        keepAlive();
        if (kind === "deleted") return;
      }
    } finally {
      release();
    }
  };

  const watchEvents: EventServiceImpl["watchEvents"] = async function* (_request, context) {
    const { subscription, keepAlive, release } = open(
      context,
      feedBroker,
      allEventsTopic,
      feedHeartbeat,
    );
    try {
      // Subscribed: tell the client at once, so it knows that from here on nothing is missed.
      yield feedHeartbeat();
      keepAlive();
      for (;;) {
        const change = await subscription.take();
        if (change === undefined) return;
        yield change;
        keepAlive();
      }
    } finally {
      release();
    }
  };

  return { watchEvent, watchEvents, watcherCount: () => limits.count };
}
