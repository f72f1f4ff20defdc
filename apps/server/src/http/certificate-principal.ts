import { createRequire } from "node:module";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type * as X509 from "@peculiar/x509";

let x509Module: typeof X509 | undefined;

/**
 * @peculiar/x509, loaded on the first client certificate: with what it pulls in (tsyringe,
 * asn1js, reflect-metadata) it costs 18 MB and a noticeable part of start-up, and only servers
 * that verify client certificates need it.
 */
function x509(): typeof X509 {
  if (x509Module) return x509Module;
  const require = createRequire(import.meta.url);
  // It resolves its algorithms through tsyringe, which needs the Reflect metadata API.
  require("reflect-metadata");
  x509Module = require("@peculiar/x509") as typeof X509;
  return x509Module;
}

/** Where the listener keeps a connection's principal: on the socket, out of reach of headers. */
const principalKey = Symbol("grouppe.certificatePrincipal");

type TaggedSocket = Socket & { [principalKey]?: string };

/**
 * The principal a client certificate names: its first SAN URI (a SPIFFE ID for our services),
 * else its subject CN; undefined when it names neither.
 */
export function principalOfCertificate(der: Uint8Array): string | undefined {
  const { X509Certificate, SubjectAlternativeNameExtension } = x509();
  const certificate = new X509Certificate(der);
  const names = certificate.getExtension(SubjectAlternativeNameExtension)?.names.items ?? [];
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
