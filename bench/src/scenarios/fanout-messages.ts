/** Sent to the watchers process: open this many WatchEvent streams. */
export interface WatchCommand {
  type: "watch";
  url: string;
  eventId: string;
  watchers: number;
  sessions: number;
}

/** The watchers' answer once every stream delivered its snapshot (or failed). */
export interface WatchingReply {
  type: "watching";
  watching: number;
  failed: Record<string, number>;
}

/** One committed write: the event's etag after it, when it was sent and when it was answered. */
export type WriteRecord = [etag: string, sentAt: number, answeredAt: number];

/** Sent to the writer process: change attendance for `durationSeconds`. */
export interface WriteCommand {
  type: "write";
  url: string;
  eventId: string;
  accessTokens: string[];
  concurrency: number;
  durationSeconds: number;
}

/** The writer's answer. */
export interface WrittenReply {
  type: "written";
  writes: WriteRecord[];
  errors: Record<string, number>;
  seconds: number;
}

/** Sent to the watchers process after the writes: close and measure against these writes. */
export interface FinishCommand {
  type: "finish";
  writes: WriteRecord[];
}
