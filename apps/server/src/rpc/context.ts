import { createContextKey } from "@connectrpc/connect";

/**
 * What the transport knows about the other end of a call, put on every call's context by
 * `app.ts` from the Fastify request. Only the listener can fill `certificate`: it is set when
 * the TLS handshake verified a client certificate against GROUPPE_CLIENT_CA, never from a
 * header.
 */
export interface Peer {
  /** The client's IP address as the socket sees it. */
  ip: string;
  /** The x-request-id of this call (taken from the request or generated). */
  requestId: string;
  /** The principal named by a verified client certificate: its SAN URI, else its CN. */
  certificate?: { principal: string };
}

export const peerKey = createContextKey<Peer>(
  { ip: "", requestId: "" },
  { description: "transport facts about the caller" },
);

/** Who is calling, as established by the authentication interceptor. */
export type Caller =
  | { kind: "anonymous" }
  | { kind: "user"; userId: string }
  | { kind: "service"; principal: string };

export const callerKey = createContextKey<Caller>(
  { kind: "anonymous" },
  { description: "the authenticated caller" },
);
