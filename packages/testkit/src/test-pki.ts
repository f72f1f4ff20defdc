// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

/** A PEM certificate with its private key. */
export interface TestIdentity {
  cert: string;
  key: string;
}

/** A throwaway CA with a server identity (127.0.0.1 and localhost) and a client identity. */
export interface TestPki {
  ca: string;
  server: TestIdentity;
  client: TestIdentity;
}

const keyAlgorithm = { name: "ECDSA", namedCurve: "P-256" };
const signingAlgorithm = { name: "ECDSA", hash: "SHA-256" };

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(keyAlgorithm, true, ["sign", "verify"]);
}

async function privateKeyPem(keys: webcrypto.CryptoKeyPair): Promise<string> {
  return x509.PemConverter.encode(
    await webcrypto.subtle.exportKey("pkcs8", keys.privateKey),
    "PRIVATE KEY",
  );
}

/** Creates a fresh CA and, signed by it, a server and a client certificate valid for a day. */
export async function createTestPki(): Promise<TestPki> {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 24 * 3600_000);
  const caKeys = await generateKeys();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: "CN=grouppe test CA",
    keys: caKeys,
    notBefore,
    notAfter,
    signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
    ],
  });

  async function issue(
    subject: string,
    names: x509.JsonGeneralName[],
    usage: x509.ExtendedKeyUsage,
  ): Promise<TestIdentity> {
    const keys = await generateKeys();
    const cert = await x509.X509CertificateGenerator.create({
      subject,
      issuer: ca.subject,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      notBefore,
      notAfter,
      signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([usage]),
        new x509.SubjectAlternativeNameExtension(names),
      ],
    });
    return { cert: cert.toString("pem"), key: await privateKeyPem(keys) };
  }

  return {
    ca: ca.toString("pem"),
    server: await issue(
      "CN=localhost",
      [
        { type: "ip", value: "127.0.0.1" },
        { type: "dns", value: "localhost" },
      ],
      x509.ExtendedKeyUsage.serverAuth,
    ),
    client: await issue(
      "CN=reminders",
      [{ type: "url", value: "spiffe://grouppe.internal/reminders" }],
      x509.ExtendedKeyUsage.clientAuth,
    ),
  };
}
