import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import {
  AuthService,
  EventService,
  type ImportEventsRequest,
  ImportEventsRequestSchema,
} from "@grouppe/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../src/testing/index.js";
import {
  createClientCertificate,
  createDevCa,
  createServerCertificate,
  type PemCertificate,
} from "../src/tls/dev-certificates.js";
import { eventInput } from "./support/event-input.js";

let server: TestServer;
let ca: PemCertificate;
let serviceCert: PemCertificate;
let strangerCert: PemCertificate;
let organizerId = "";
let organizerToken = "";
const sessions: Http2SessionManager[] = [];

function grpc(
  options: { cert?: PemCertificate; headers?: Record<string, string> } = {},
): Transport {
  const nodeOptions = { ca: ca.cert, cert: options.cert?.cert, key: options.cert?.key };
  const sessionManager = new Http2SessionManager(server.baseUrl, {}, nodeOptions);
  sessions.push(sessionManager);
  return createGrpcTransport({
    baseUrl: server.baseUrl,
    sessionManager,
    interceptors: [
      (next) => (req) => {
        for (const [name, value] of Object.entries(options.headers ?? {}))
          req.header.set(name, value);
        return next(req);
      },
    ],
  });
}

async function* rows(list: ImportEventsRequest[]) {
  yield* list;
}

function row(
  key: string,
  overrides: Partial<{ title: string; organizerId: string }> = {},
): ImportEventsRequest {
  return create(ImportEventsRequestSchema, {
    key,
    organizerId: overrides.organizerId ?? organizerId,
    event: eventInput({ title: overrides.title ?? `Imported ${key}` }),
  });
}

beforeAll(async () => {
  ca = await createDevCa();
  const otherCa = await createDevCa({ commonName: "another CA" });
  const serverCert = await createServerCertificate(ca);
  serviceCert = await createClientCertificate(ca, "importer");
  strangerCert = await createClientCertificate(otherCa, "importer");
  server = await startTestServer(
    {},
    { tls: { cert: serverCert.cert, key: serverCert.key, clientCa: ca.cert } },
  );
  const { session } = await createClient(AuthService, grpc()).signUp({
    email: "organizer@example.com",
    password: "correct horse",
    displayName: "Organizer",
  });
  organizerId = session?.user?.id ?? "";
  organizerToken = session?.accessToken ?? "";
});

afterAll(async () => {
  for (const session of sessions) session.abort();
  await server?.close();
});

async function importWith(transport: Transport, list: ImportEventsRequest[]) {
  return createClient(EventService, transport).importEvents(rows(list));
}

describe("ImportEvents over mTLS", () => {
  it("needs a client certificate", async () => {
    const error = await importWith(grpc(), [row("a")]).catch((e: unknown) => ConnectError.from(e));
    expect((error as ConnectError).code).toBe(Code.Unauthenticated);
  });

  it("does not accept a certificate from another CA", async () => {
    const error = await importWith(grpc({ cert: strangerCert }), [row("a")]).catch((e: unknown) =>
      ConnectError.from(e),
    );
    expect((error as ConnectError).code).toBe(Code.Unauthenticated);
  });

  it("never lets a header stand in for a certificate", async () => {
    const headers = {
      "x-forwarded-client-cert": "URI=spiffe://grouppe.internal/service/importer",
      "x-client-cert": serviceCert.cert.replaceAll("\n", ""),
      "x-ssl-client-verify": "SUCCESS",
    };
    const error = await importWith(grpc({ headers }), [row("a")]).catch((e: unknown) =>
      ConnectError.from(e),
    );
    expect((error as ConnectError).code).toBe(Code.Unauthenticated);
  });

  it("refuses a web user with a valid token", async () => {
    const error = await importWith(
      grpc({ headers: { authorization: `Bearer ${organizerToken}` } }),
      [row("a")],
    ).catch((e: unknown) => ConnectError.from(e));
    expect((error as ConnectError).code).toBe(Code.PermissionDenied);
  });

  it("imports with a valid certificate, reports bad rows by index and is idempotent per key", async () => {
    const run = randomUUID();
    const list = [
      row(`${run}-1`),
      row(`${run}-2`, { title: "" }),
      row(`${run}-3`, { organizerId: randomUUID() }),
      ...Array.from({ length: 250 }, (_, i) => row(`${run}-bulk-${i}`)),
    ];
    const first = await importWith(grpc({ cert: serviceCert }), list);
    expect(first.receivedCount).toBe(253);
    expect(first.createdCount).toBe(251);
    expect(first.unchangedCount).toBe(0);
    expect(first.errors.map((e) => [e.index, e.key])).toEqual([
      [1, `${run}-2`],
      [2, `${run}-3`],
    ]);
    expect(first.errors[0]?.reason).toContain("event.title");
    expect(first.errors[0]?.violations.length).toBeGreaterThan(0);

    const second = await importWith(grpc({ cert: serviceCert }), list);
    expect(second.createdCount).toBe(0);
    expect(second.unchangedCount).toBe(251);
    const listed = await createClient(EventService, grpc()).listEvents({
      organizerId,
      pageSize: 100,
      query: "Imported",
    });
    expect(listed.events.length).toBe(100);
    expect(listed.nextPageToken).not.toBe("");
  });

  it("reports rows with out-of-range times or text that is not UTF-8 and stores none of them", async () => {
    const run = randomUUID();
    const late = row(`${run}-late`);
    if (late.event)
      late.event.endsAt = {
        $typeName: "google.protobuf.Timestamp",
        seconds: 253_402_300_800n,
        nanos: 0,
      };
    const garbled = row(`${run}-garbled`, { title: "A\uFFFD(\uFFFDB" });
    const result = await importWith(grpc({ cert: serviceCert }), [late, garbled, row(`${run}-ok`)]);
    expect(result.createdCount).toBe(1);
    expect(result.errors.map((e) => [e.index, e.reason.split(":")[0]])).toEqual([
      [0, "event.ends_at"],
      [1, "event.title"],
    ]);
  });
});
