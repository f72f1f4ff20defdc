// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

/** A certificate and its private key (PKCS #8), both PEM. */
export interface PemCertificate {
  cert: string;
  key: string;
}

/** A development CA and the two certificates it signed. */
export interface DevCertificates {
  ca: PemCertificate;
  /** For the server: localhost, 127.0.0.1 and ::1. */
  server: PemCertificate;
  /** For one internal service calling the server with mTLS. */
  client: PemCertificate;
}

/** How long a certificate is valid and, for a CA, what it is called. */
export interface CertificateOptions {
  /** Default: 3650 days for a CA, 365 for server and client certificates. */
  validDays?: number;
}

/** The SPIFFE trust domain of grouppe's internal services. */
export const trustDomain = "grouppe.internal";

const keyAlgorithm = { name: "ECDSA", namedCurve: "P-256" };
const signingAlgorithm = { name: "ECDSA", hash: "SHA-256" };
const crypto = webcrypto;
const dayMs = 24 * 3600_000;
/** Backdates `notBefore` so that a peer whose clock runs a little behind accepts a fresh cert. */
const clockSkewMs = 5 * 60_000;
/** A SPIFFE path segment that is also a readable CN. */
const serviceNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** The SPIFFE ID a client certificate carries for `serviceName`: its service principal. */
export function serviceSpiffeId(serviceName: string): string {
  if (!serviceNamePattern.test(serviceName)) {
    throw new Error(
      `service name ${JSON.stringify(serviceName)} is invalid: expected 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  return `spiffe://${trustDomain}/service/${serviceName}`;
}

/** Creates a self-signed CA that may sign end-entity certificates only (path length 0). */
export async function createDevCa(
  options: CertificateOptions & { commonName?: string } = {},
): Promise<PemCertificate> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: [{ CN: [options.commonName ?? "grouppe development CA"] }, { O: ["grouppe"] }],
      keys,
      ...validity(options.validDays ?? 3650),
      signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { cert: cert.toString("pem"), key: await privateKeyPem(keys.privateKey) };
}

/** Creates a server certificate for localhost, 127.0.0.1 and ::1, signed by `ca`. */
export async function createServerCertificate(
  ca: PemCertificate,
  options: CertificateOptions = {},
): Promise<PemCertificate> {
  return issue(ca, {
    commonName: "localhost",
    names: [
      { type: "dns", value: "localhost" },
      { type: "ip", value: "127.0.0.1" },
      { type: "ip", value: "::1" },
    ],
    usage: x509.ExtendedKeyUsage.serverAuth,
    validDays: options.validDays ?? 365,
  });
}

/**
 * Creates a client certificate for the internal service `serviceName`, signed by `ca`: CN is
 * the name, the SAN URI its SPIFFE ID, which the server takes as the service principal.
 */
export async function createClientCertificate(
  ca: PemCertificate,
  serviceName: string,
  options: CertificateOptions = {},
): Promise<PemCertificate> {
  return issue(ca, {
    commonName: serviceName,
    names: [{ type: "url", value: serviceSpiffeId(serviceName) }],
    usage: x509.ExtendedKeyUsage.clientAuth,
    validDays: options.validDays ?? 365,
  });
}

/** Creates a fresh CA with a server certificate and a client certificate for `serviceName`. */
export async function createDevCertificates(serviceName: string): Promise<DevCertificates> {
  serviceSpiffeId(serviceName); // a bad name fails before any key is generated
  const ca = await createDevCa();
  const [server, client] = await Promise.all([
    createServerCertificate(ca),
    createClientCertificate(ca, serviceName),
  ]);
  return { ca, server, client };
}

async function issue(
  ca: PemCertificate,
  leaf: {
    commonName: string;
    names: x509.JsonGeneralName[];
    usage: x509.ExtendedKeyUsage;
    validDays: number;
  },
): Promise<PemCertificate> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await crypto.subtle.importKey(
    "pkcs8",
    x509.PemConverter.decodeFirst(ca.key),
    keyAlgorithm,
    false,
    ["sign"],
  );
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.create(
    {
      subject: [{ CN: [leaf.commonName] }],
      issuer: caCert.subject,
      publicKey: keys.publicKey,
      signingKey: caKey,
      ...validity(leaf.validDays),
      signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([leaf.usage]),
        new x509.SubjectAlternativeNameExtension(leaf.names),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { cert: cert.toString("pem"), key: await privateKeyPem(keys.privateKey) };
}

function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return crypto.subtle.generateKey(keyAlgorithm, true, ["sign", "verify"]);
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - clockSkewMs), notAfter: new Date(now + days * dayMs) };
}
