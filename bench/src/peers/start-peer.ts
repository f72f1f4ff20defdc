import type { ChildProcess } from "node:child_process";
import { forkModule, nextMessage, stopChild } from "../child-process.js";

/** The servers the bench compares grouppe with. */
export type PeerName = "connect-fastify" | "grpc-js" | "bare-http2";

/** A running peer: its ports (HTTP/1.1 only where it speaks it) and how to stop it. */
export interface RunningPeer {
  name: PeerName;
  pid: number;
  h2cUrl: string;
  http1Url?: string;
  stop(): Promise<void>;
}

const modules: Record<PeerName, string> = {
  "connect-fastify": "peers/connect-fastify-peer",
  "grpc-js": "peers/grpc-js-peer",
  "bare-http2": "peers/bare-http2-peer",
};

/** Starts a peer in its own process and waits until it listens. */
export async function startPeer(name: PeerName): Promise<RunningPeer> {
  const child: ChildProcess = forkModule(modules[name]);
  try {
    const ready = await nextMessage<{ type: "ready"; h2cPort: number; http1Port?: number }>(
      child,
      "ready",
      30_000,
    );
    return {
      name,
      pid: child.pid ?? 0,
      h2cUrl: `http://127.0.0.1:${ready.h2cPort}`,
      http1Url: ready.http1Port ? `http://127.0.0.1:${ready.http1Port}` : undefined,
      stop: () => stopChild(child),
    };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}
