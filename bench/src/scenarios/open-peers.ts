import type { Protocol } from "../load/load-spec.js";
import { fixtureEventId } from "../peers/fixture.js";
import { type PeerName, type RunningPeer, startPeer } from "../peers/start-peer.js";
import type { UnaryMethod } from "./unary-requests.js";
import type { TargetCases } from "./unary-rounds.js";
import { unaryCases } from "./unary-scenario.js";

/** Which peers speak which protocols: only connect-fastify speaks all four. */
const peerProtocols: Record<PeerName, Protocol[]> = {
  "connect-fastify": ["grpc", "connect-proto", "connect-json", "grpc-web"],
  "grpc-js": ["grpc"],
  "bare-http2": ["grpc"],
};

/** The peers, running, with the cases each is measured on. */
export interface OpenPeers {
  targets: TargetCases[];
  stop(): Promise<void>;
}

/** Starts every peer, each in its own process, for Health/Check and GetEvent. */
export async function openPeers(reduced: boolean): Promise<OpenPeers> {
  const names: PeerName[] = reduced ? ["bare-http2"] : ["connect-fastify", "grpc-js", "bare-http2"];
  const methods: UnaryMethod[] = reduced ? ["Health/Check"] : ["Health/Check", "GetEvent"];
  const running: RunningPeer[] = [];
  const stop = async () => void (await Promise.all(running.map((peer) => peer.stop())));
  try {
    for (const name of names) running.push(await startPeer(name));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    targets: running.map((peer) => ({
      target: {
        server: peer.name,
        storage: "memory" as const,
        h2cUrl: peer.h2cUrl,
        http1Url: peer.http1Url,
        eventId: fixtureEventId,
        pid: peer.pid,
      },
      cases: unaryCases(methods, peerProtocols[peer.name]),
    })),
    stop,
  };
}
