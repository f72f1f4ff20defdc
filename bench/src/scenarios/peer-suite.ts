import type { Protocol } from "../load/load-spec.js";
import { fixtureEventId } from "../peers/fixture.js";
import { type PeerName, startPeer } from "../peers/start-peer.js";
import type { ThroughputRow } from "../report/report-types.js";
import type { BenchContext } from "./bench-context.js";
import type { UnaryMethod } from "./unary-requests.js";
import { runUnaryCases, unaryCases } from "./unary-scenario.js";

/** Which peers speak which protocols: only connect-fastify speaks all four. */
const peerProtocols: Record<PeerName, Protocol[]> = {
  "connect-fastify": ["grpc", "connect-proto", "connect-json", "grpc-web"],
  "grpc-js": ["grpc"],
  "bare-http2": ["grpc"],
};

/** Loads every peer, each in its own process, with Health/Check and GetEvent. */
export async function runPeerSuite(
  context: BenchContext,
  reduced: boolean,
): Promise<ThroughputRow[]> {
  const rows: ThroughputRow[] = [];
  const peers: PeerName[] = reduced ? ["bare-http2"] : ["connect-fastify", "grpc-js", "bare-http2"];
  const methods: UnaryMethod[] = reduced ? ["Health/Check"] : ["Health/Check", "GetEvent"];
  for (const name of peers) {
    const peer = await startPeer(name);
    try {
      const target = {
        server: name,
        storage: "memory" as const,
        h2cUrl: peer.h2cUrl,
        http1Url: peer.http1Url,
        eventId: fixtureEventId,
      };
      rows.push(
        ...(await runUnaryCases(target, unaryCases(methods, peerProtocols[name]), context)),
      );
    } finally {
      await peer.stop();
    }
  }
  return rows;
}
