import "reflect-metadata";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http2 from "node:http2";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { EventService, type ImportEventsRequest } from "@grouppe/api";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@grouppe/api/health";
import * as grpc from "@grpc/grpc-js";
import * as x509 from "@peculiar/x509";
import { type FastifyInstance, fastify } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { principalOfCertificate, verifiedPrincipalOf } from "../src/http/certificate-principal.js";
import { Listener, listen } from "../src/listen.js";
import { startTestServer, type TestServer } from "../src/testing/index.js";
import {
  createClientCertificate,
  createDevCa,
  createServerCertificate,
  type PemCertificate,
  serviceSpiffeId,
} from "../src/tls/dev-certificates.js";
import { curl, GrpcJsHealthClient } from "./support/transport-helpers.js";

let ca: PemCertificate;
let serverCert: PemCertificate;
let serviceCert: PemCertificate;
let strangerCert: PemCertificate;
let dir: string;
let caFile: string;

beforeAll(async () => {
  ca = await createDevCa();
  const otherCa = await createDevCa({ commonName: "someone else's CA" });
  [serverCert, serviceCert, strangerCert] = await Promise.all([
    createServerCertificate(ca),
    createClientCertificate(ca, "importer"),
    createClientCertificate(otherCa, "importer"),
  ]);
  dir = await mkdtemp(join(tmpdir(), "grouppe-tls-"));
  caFile = join(dir, "ca.pem");
  await writeFile(caFile, ca.cert);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** One request over HTTP/1.1 or HTTP/2 with TLS; resolves with status, body and the negotiated protocol. */
function tlsGet(
  url: string,
  options: {
    httpVersion: "1.1" | "2";
    cert?: PemCertificate;
    headers?: Record<string, string>;
    alpn?: string[];
  },
): Promise<{ status: number; body: string; alpn: string | false | null }> {
  const credentials = { ca: ca.cert, cert: options.cert?.cert, key: options.cert?.key };
  if (options.httpVersion === "1.1") {
    return new Promise((resolve, reject) => {
      // ALPNProtocols reaches tls.connect; Node's typings leave it out of https.RequestOptions.
      const requestOptions = {
        ...credentials,
        headers: options.headers,
        agent: false,
        ALPNProtocols: options.alpn ?? ["http/1.1"],
      };
      const request = https.get(url, requestOptions as https.RequestOptions, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            body,
            alpn: (response.socket as tls.TLSSocket).alpnProtocol,
          }),
        );
      });
      request.on("error", reject);
    });
  }
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, credentials);
    session.on("error", reject);
    const parsed = new URL(url);
    const stream = session.request({ ":path": parsed.pathname, ...options.headers });
    let status = 0;
    let body = "";
    stream.setEncoding("utf8");
    stream.on("response", (headers) => (status = Number(headers[":status"])));
    stream.on("data", (chunk: string) => (body += chunk));
    stream.on("end", () => {
      const alpn = session.alpnProtocol ?? null;
      session.close();
      resolve({ status, body, alpn });
    });
    stream.on("error", reject);
  });
}

describe("principals from client certificates", () => {
  it("is the SAN URI of a certificate that has one, else its CN", () => {
    const service = new x509.X509Certificate(serviceCert.cert);
    expect(principalOfCertificate(new Uint8Array(service.rawData))).toBe(
      serviceSpiffeId("importer"),
    );
    const caOnly = new x509.X509Certificate(ca.cert);
    expect(principalOfCertificate(new Uint8Array(caOnly.rawData))).toBe("grouppe development CA");
  });
});

describe("the listener with TLS and client certificates", () => {
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    const files = { cert: join(dir, "server.pem"), key: join(dir, "server.key") };
    await writeFile(files.cert, serverCert.cert);
    await writeFile(files.key, serverCert.key);
    const config = loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      GROUPPE_TLS_CERT: files.cert,
      GROUPPE_TLS_KEY: files.key,
      GROUPPE_CLIENT_CA: caFile,
    });
    const listener = new Listener(config, pino({ level: "silent" }));
    app = fastify({ serverFactory: listener.serverFactory });
    // What the transport knows about the caller: the principal comes from the socket only.
    app.get("/whoami", async (request) => ({
      principal: verifiedPrincipalOf(request.raw.socket) ?? null,
      httpVersion: request.raw.httpVersion,
    }));
    url = (await listen(app, config)).url;
  });

  afterAll(async () => {
    await app?.close();
  });

  it("negotiates h2 and http/1.1 by ALPN on one port", async () => {
    const h1 = await tlsGet(`${url}/whoami`, { httpVersion: "1.1" });
    expect(h1).toMatchObject({ status: 200, alpn: "http/1.1" });
    expect(JSON.parse(h1.body)).toEqual({ principal: null, httpVersion: "1.1" });
    // A client that offers no protocol at all gets HTTP/1.1.
    const plain = await tlsGet(`${url}/whoami`, { httpVersion: "1.1", alpn: [] });
    expect(plain).toMatchObject({ status: 200, alpn: false });
    const h2 = await tlsGet(`${url}/whoami`, { httpVersion: "2" });
    expect(h2).toMatchObject({ status: 200, alpn: "h2" });
    expect(JSON.parse(h2.body)).toEqual({ principal: null, httpVersion: "2.0" });
  });

  it("names the principal of a verified client certificate over both protocols", async () => {
    for (const httpVersion of ["1.1", "2"] as const) {
      const answer = await tlsGet(`${url}/whoami`, { httpVersion, cert: serviceCert });
      expect(JSON.parse(answer.body).principal, httpVersion).toBe(serviceSpiffeId("importer"));
    }
  });

  it("names nobody for a certificate from another CA, or for headers that claim a principal", async () => {
    for (const httpVersion of ["1.1", "2"] as const) {
      const stranger = await tlsGet(`${url}/whoami`, { httpVersion, cert: strangerCert });
      expect(stranger.status).toBe(200);
      expect(JSON.parse(stranger.body).principal, httpVersion).toBeNull();
      const claimed = await tlsGet(`${url}/whoami`, {
        httpVersion,
        headers: {
          "x-client-principal": serviceSpiffeId("importer"),
          "x-forwarded-client-cert": `URI=${serviceSpiffeId("importer")}`,
          "ssl-client-verify": "SUCCESS",
        },
      });
      expect(JSON.parse(claimed.body).principal, httpVersion).toBeNull();
    }
  });

  it("offers h2 and http/1.1 to a raw TLS client and prefers h2", async () => {
    for (const [offered, expected] of [
      [["h2", "http/1.1"], "h2"],
      [["http/1.1"], "http/1.1"],
    ] as const) {
      const socket = tls.connect({
        host: "127.0.0.1",
        port: Number(new URL(url).port),
        ca: ca.cert,
        servername: "localhost",
        ALPNProtocols: [...offered],
      });
      await new Promise((resolve, reject) =>
        socket.once("secureConnect", resolve).once("error", reject),
      );
      expect(socket.alpnProtocol).toBe(expected);
      socket.destroy();
    }
  });
});

describe("the server over TLS", () => {
  let server: TestServer;
  const sessions: Http2SessionManager[] = [];

  beforeAll(async () => {
    server = await startTestServer(
      {},
      { tls: { cert: serverCert.cert, key: serverCert.key, clientCa: ca.cert } },
    );
  });

  afterAll(async () => {
    for (const session of sessions) session.abort();
    await server?.close();
  });

  function grpcTransport(cert?: PemCertificate) {
    const sessionManager = new Http2SessionManager(
      server.baseUrl,
      {},
      { ca: ca.cert, cert: cert?.cert, key: cert?.key },
    );
    sessions.push(sessionManager);
    return createGrpcTransport({ baseUrl: server.baseUrl, sessionManager });
  }

  it("serves gRPC, Connect, grpc-js and curl on its one TLS port", async () => {
    const answers = await Promise.all([
      createClient(Health, grpcTransport()).check({ service: "" }),
      createClient(
        Health,
        createConnectTransport({
          baseUrl: server.baseUrl,
          httpVersion: "1.1",
          nodeOptions: { ca: ca.cert },
        }),
      ).check({ service: "" }),
      (async () => {
        const client = new GrpcJsHealthClient(
          `localhost:${server.port}`,
          grpc.credentials.createSsl(Buffer.from(ca.cert)),
        );
        try {
          return (await client.check("")).response;
        } finally {
          client.close();
        }
      })(),
    ]);
    for (const answer of answers) expect(answer.status).toBe(ServingStatus.SERVING);
    for (const [flag, version] of [
      ["--http1.1", "1.1"],
      ["--http2", "2"],
    ] as const) {
      const response = await curl(`${server.baseUrl}/healthz`, [flag, "--cacert", caFile]);
      expect(response).toMatchObject({ httpVersion: version, status: 200 });
    }
  });

  it("treats a verified client certificate as the service it names, and anyone else as anonymous", async () => {
    async function* nothing(): AsyncGenerator<ImportEventsRequest> {}
    const asService = await createClient(EventService, grpcTransport(serviceCert)).importEvents(
      nothing(),
    );
    expect(asService.receivedCount).toBe(0);
    for (const transport of [grpcTransport(), grpcTransport(strangerCert)]) {
      const refused = await createClient(EventService, transport)
        .importEvents(nothing())
        .catch((error: unknown) => ConnectError.from(error));
      expect((refused as ConnectError).code).toBe(Code.Unauthenticated);
    }
  });
});
