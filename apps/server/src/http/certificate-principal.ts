// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import * as x509 from "@peculiar/x509";

/** Where the listener keeps a connection's principal: on the socket, out of reach of headers. */
const principalKey = Symbol("grouppe.certificatePrincipal");

type TaggedSocket = Socket & { [principalKey]?: string };

/**
 * The principal a client certificate names: its first SAN URI (a SPIFFE ID for our services),
 * else its subject CN; undefined when it names neither.
 */
export function principalOfCertificate(der: Uint8Array): string | undefined {
  const certificate = new x509.X509Certificate(der);
  const names = certificate.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  const uri = names.find((name) => name.type === "url")?.value;
  if (uri) return uri;
  return certificate.subjectName.getField("CN")[0] || undefined;
}

/**
 * Records the principal of a TLS connection whose client certificate the handshake verified
 * against the client CA. Unverified or absent certificates record nothing: such callers are
 * anonymous, whatever they claim.
 */
export function tagVerifiedPrincipal(socket: TLSSocket): void {
  if (!socket.authorized) return;
  const certificate = socket.getPeerX509Certificate();
  if (!certificate) return;
  const principal = principalOfCertificate(certificate.raw);
  if (principal !== undefined) (socket as TaggedSocket)[principalKey] = principal;
}

/**
 * The verified principal of the connection a request came on. Takes the request's `socket`,
 * which for HTTP/2 is Node's proxy that forwards property reads to the session's socket.
 */
export function verifiedPrincipalOf(socket: Socket | undefined): string | undefined {
  return (socket as TaggedSocket | undefined)?.[principalKey];
}
