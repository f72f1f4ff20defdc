import { createPrivateKey, X509Certificate } from "node:crypto";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import { eventually } from "@grouppe/testkit";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createClientCertificate,
  createDevCa,
  createDevCertificates,
  createServerCertificate,
  type DevCertificates,
  type PemCertificate,
  serviceSpiffeId,
} from "./dev-certificates.js";

const serverAuth = "1.3.6.1.5.5.7.3.1";
const clientAuth = "1.3.6.1.5.5.7.3.2";

let certs: DevCertificates;
let strangerCa: PemCertificate;

beforeAll(async () => {
  certs = await createDevCertificates("importer");
  strangerCa = await createDevCa({ commonName: "somebody else's CA" });
});

/** What the server saw of one TLS connection. */
interface Handshake {
  authorized: boolean;
  authorizationError?: string;
  /** The verified client certificate's SAN URI, as the server would take it as principal. */
  principal?: string;
  /** The handshake error the server reported, if it refused the client. */
  refused?: string;
}

/**
 * Runs one TLS connection between a node:tls server and client on loopback and reports what
 * the server saw. The server requires a client certificate; `enforce` makes it refuse
 * unverified ones during the handshake, as GROUPPE_CLIENT_CA does.
 */
async function handshake(options: {
  server: PemCertificate;
  clientCa: string;
  client?: PemCertificate;
  trustedCa: string;
  connectTo: string;
  servername?: string;
  enforce?: boolean;
}): Promise<{ server: Handshake; client: { ok: boolean; error?: string } }> {
  const seen: Handshake[] = [];
  const server = tls.createServer({
    cert: options.server.cert,
    key: options.server.key,
    ca: options.clientCa,
    requestCert: true,
    rejectUnauthorized: options.enforce ?? true,
  });
  server.on("secureConnection", (socket) => {
    const certificate = socket.getPeerCertificate();
    const uri = /URI:([^,\s]+)/.exec(certificate.subjectaltname ?? "")?.[1];
    seen.push({
      authorized: socket.authorized,
      // Node reports the verification failure as an OpenSSL code, typed as an Error.
      authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
      principal: socket.authorized ? uri : undefined,
    });
    socket.end("hello");
  });
  server.on("tlsClientError", (error: NodeJS.ErrnoException) => {
    seen.push({ authorized: false, refused: error.code ?? error.message });
  });
  await new Promise<void>((resolve) => server.listen(0, "::", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const client = await new Promise<{ ok: boolean; error?: string }>((resolve) => {
      const socket = tls.connect({
        host: options.connectTo,
        port,
        servername: options.servername,
        ca: options.trustedCa,
        cert: options.client?.cert,
        key: options.client?.key,
      });
      let data = "";
      socket.setEncoding("utf8");
      socket.setTimeout(10_000, () => socket.destroy(new Error("timed out")));
      socket.on("data", (chunk: string) => {
        data += chunk;
      });
      socket.on("end", () => resolve({ ok: data === "hello" }));
      socket.on("error", (error: NodeJS.ErrnoException) =>
        resolve({ ok: false, error: error.code ?? error.message }),
      );
    });
    // The server's side of a refused handshake may be reported just after the client's.
    await eventually(() => seen.length > 0, { what: "the server's side of the handshake" }).catch(
      () => undefined,
    );
    return { server: seen[0] ?? { authorized: false, refused: "nothing seen" }, client };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe("development certificates", () => {
  it("makes a P-256 CA that may sign end-entity certificates only", () => {
    const ca = new X509Certificate(certs.ca.cert);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toBe("CN=grouppe development CA\nO=grouppe");
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(ca.checkPrivateKey(createPrivateKey(certs.ca.key))).toBe(true);
  });

  it("makes a server certificate for localhost, 127.0.0.1 and ::1, signed by the CA", () => {
    const ca = new X509Certificate(certs.ca.cert);
    const server = new X509Certificate(certs.server.cert);
    expect(server.subjectAltName?.split(", ")).toEqual([
      "DNS:localhost",
      "IP Address:127.0.0.1",
      expect.stringMatching(/^IP Address:(::1|0:0:0:0:0:0:0:1)$/),
    ]);
    expect(server.checkHost("localhost")).toBe("localhost");
    expect(server.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(server.checkIP("::1")).toBe("::1");
    expect(server.checkHost("example.com")).toBeUndefined();
    expect(server.ca).toBe(false);
    expect(server.keyUsage).toEqual([serverAuth]);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkPrivateKey(createPrivateKey(certs.server.key))).toBe(true);
  });

  it("makes a client certificate naming the service by CN and SPIFFE ID", () => {
    const ca = new X509Certificate(certs.ca.cert);
    const client = new X509Certificate(certs.client.cert);
    expect(client.subject).toBe("CN=importer");
    expect(client.subjectAltName).toBe("URI:spiffe://grouppe.internal/service/importer");
    expect(client.keyUsage).toEqual([clientAuth]);
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(client.checkPrivateKey(createPrivateKey(certs.client.key))).toBe(true);
  });

  it("refuses service names that are not one SPIFFE path segment", async () => {
    for (const name of ["", "a/b", "../etc", "two words", "-leading", "x".repeat(64)]) {
      expect(() => serviceSpiffeId(name)).toThrow(/service name .* is invalid/);
    }
    await expect(createClientCertificate(certs.ca, "a/b")).rejects.toThrow(/is invalid/);
    expect(serviceSpiffeId("billing.v2_worker-1")).toBe(
      "spiffe://grouppe.internal/service/billing.v2_worker-1",
    );
  });
});

describe("mutual TLS with the development certificates", () => {
  for (const [connectTo, servername] of [
    ["localhost", "localhost"],
    ["127.0.0.1", undefined],
    ["::1", undefined],
  ] as const) {
    it(`verifies both sides when the client dials ${connectTo}`, async () => {
      const result = await handshake({
        server: certs.server,
        clientCa: certs.ca.cert,
        client: certs.client,
        trustedCa: certs.ca.cert,
        connectTo,
        servername,
      });
      expect(result.client).toEqual({ ok: true });
      expect(result.server).toMatchObject({
        authorized: true,
        principal: "spiffe://grouppe.internal/service/importer",
      });
    });
  }

  it("refuses a client certificate from another CA", async () => {
    const stranger = await createClientCertificate(strangerCa, "importer");
    const result = await handshake({
      server: certs.server,
      clientCa: certs.ca.cert,
      client: stranger,
      trustedCa: certs.ca.cert,
      connectTo: "127.0.0.1",
    });
    expect(result.client.ok).toBe(false);
    // Under TLS 1.3 the client sends its certificate after its own handshake is done, so the
    // refusal reaches it as a closed connection rather than as a handshake error.
    expect(result.client.ok).toBe(false);
    expect(result.server.authorized).toBe(false);
    expect(result.server.refused).toBeDefined();
  });

  it("reports a foreign client certificate as unverified when the server only asks for one", async () => {
    const stranger = await createClientCertificate(strangerCa, "importer");
    const result = await handshake({
      server: certs.server,
      clientCa: certs.ca.cert,
      client: stranger,
      trustedCa: certs.ca.cert,
      connectTo: "127.0.0.1",
      enforce: false,
    });
    expect(result.client.ok).toBe(true);
    expect(result.server.authorized).toBe(false);
    expect(result.server.authorizationError).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
  });

  it("makes the client refuse a server certificate from another CA", async () => {
    const strangerServer = await createServerCertificate(strangerCa);
    const result = await handshake({
      server: strangerServer,
      clientCa: certs.ca.cert,
      client: certs.client,
      trustedCa: certs.ca.cert,
      connectTo: "127.0.0.1",
    });
    expect(result.client).toEqual({ ok: false, error: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
  });

  it("makes the client refuse the server certificate for another host name", async () => {
    const result = await handshake({
      server: certs.server,
      clientCa: certs.ca.cert,
      client: certs.client,
      trustedCa: certs.ca.cert,
      connectTo: "127.0.0.1",
      servername: "events.example.com",
    });
    expect(result.client).toEqual({ ok: false, error: "ERR_TLS_CERT_ALTNAME_INVALID" });
  });
});
