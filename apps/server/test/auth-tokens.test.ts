import { generateKeyPairSync } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuthService, EventService } from "@grouppe/api";
import { importPKCS8, type JWTPayload, SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../src/testing/index.js";
import { eventInput } from "./support/event-input.js";

let server: TestServer;
let userId = "";
let serverKeyPem = "";
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  server = await startTestServer();
  const auth = createClient(
    AuthService,
    createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
  );
  const { session } = await auth.signUp({
    email: "token-test@example.com",
    password: "correct horse",
    displayName: "T",
  });
  userId = session?.user?.id ?? "";
  const keyFile = join(server.dataDir, "signing-keys", "access-token.json");
  serverKeyPem = (JSON.parse(await readFile(keyFile, "utf8")) as { privatePem: string }).privatePem;
});

afterAll(async () => {
  await server?.close();
});

/** A token signed with the server's own key, with any claim or header changed. */
async function forge(
  claims: Partial<JWTPayload> = {},
  options: { pem?: string; typ?: string } = {},
) {
  const base = {
    sub: userId,
    iss: "grouppe",
    aud: "grouppe-api",
    iat: now(),
    nbf: now(),
    exp: now() + 600,
    ...claims,
  };
  const key = await importPKCS8(options.pem ?? serverKeyPem, "EdDSA");
  return new SignJWT(base)
    .setProtectedHeader({ alg: "EdDSA", typ: options.typ ?? "at+jwt" })
    .sign(key);
}

async function createWith(authorization: string | undefined) {
  const events = createClient(
    EventService,
    createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
  );
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  return events.createEvent({ event: eventInput({ title: "Must not exist" }) }, { headers }).then(
    () => "created",
    (e: unknown) => ConnectError.from(e),
  );
}

describe("access tokens", () => {
  it("lets a well-formed token through (the forged baseline is right)", async () => {
    expect(await createWith(`Bearer ${await forge()}`)).toBe("created");
  });

  it("refuses every bad token with UNAUTHENTICATED and writes nothing", async () => {
    const otherKey = generateKeyPairSync("ed25519")
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    const cases: Record<string, string | undefined> = {
      missing: undefined,
      "not a bearer": "Basic dXNlcjpwYXNz",
      garbage: "Bearer garbage",
      expired: `Bearer ${await forge({ iat: now() - 1200, nbf: now() - 1200, exp: now() - 600 })}`,
      "not yet valid": `Bearer ${await forge({ nbf: now() + 600 })}`,
      "wrong issuer": `Bearer ${await forge({ iss: "evil" })}`,
      "wrong audience": `Bearer ${await forge({ aud: "another-api" })}`,
      "alg none": `Bearer ${new UnsecuredJWT({ sub: userId, iss: "grouppe", aud: "grouppe-api", nbf: now(), iat: now(), exp: now() + 600 }).encode()}`,
      "another key": `Bearer ${await forge({}, { pem: otherKey })}`,
      "id token type": `Bearer ${await forge({}, { typ: "JWT" })}`,
    };
    for (const [name, authorization] of Object.entries(cases)) {
      const outcome = await createWith(authorization);
      expect(outcome, name).toBeInstanceOf(ConnectError);
      expect((outcome as ConnectError).code, name).toBe(Code.Unauthenticated);
    }
    const events = createClient(
      EventService,
      createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
    );
    const { events: listed } = await events.listEvents({ query: "Must not exist" });
    expect(listed.length).toBe(1); // only the baseline
  });
});

describe("sessions", () => {
  const transport = () => createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" });

  it("answers an unknown email and a wrong password alike", async () => {
    const auth = createClient(AuthService, transport());
    const unknown = await auth
      .logIn({ email: "nobody@example.com", password: "whatever1" })
      .catch((e: unknown) => ConnectError.from(e));
    const wrong = await auth
      .logIn({ email: "token-test@example.com", password: "whatever1" })
      .catch((e: unknown) => ConnectError.from(e));
    expect(unknown).toBeInstanceOf(ConnectError);
    expect(wrong).toBeInstanceOf(ConnectError);
    expect((unknown as ConnectError).code).toBe(Code.Unauthenticated);
    expect((unknown as ConnectError).rawMessage).toBe((wrong as ConnectError).rawMessage);
  });

  it("rotates refresh tokens and revokes the family when a used one comes back", async () => {
    const auth = createClient(AuthService, transport());
    const first = (await auth.logIn({ email: "token-test@example.com", password: "correct horse" }))
      .session;
    const second = (await auth.refreshToken({ refreshToken: first?.refreshToken ?? "" })).session;
    const reused = await auth
      .refreshToken({ refreshToken: first?.refreshToken ?? "" })
      .catch((e: unknown) => ConnectError.from(e));
    expect((reused as ConnectError).code).toBe(Code.Unauthenticated);
    // The thief's replay also ended the legitimate continuation of that session.
    const revoked = await auth
      .refreshToken({ refreshToken: second?.refreshToken ?? "" })
      .catch((e: unknown) => ConnectError.from(e));
    expect((revoked as ConnectError).code).toBe(Code.Unauthenticated);
  });

  it("duplicate sign-up is ALREADY_EXISTS with the reason EMAIL_TAKEN", async () => {
    const auth = createClient(AuthService, transport());
    const error = await auth
      .signUp({ email: "TOKEN-TEST@example.com", password: "correct horse", displayName: "Again" })
      .catch((e: unknown) => ConnectError.from(e));
    expect((error as ConnectError).code).toBe(Code.AlreadyExists);
    expect((error as ConnectError).rawMessage).toMatch(/email/i);
  });
});

describe("the web app's cookie session", () => {
  const post = (method: string, body: object, headers: Record<string, string> = {}) =>
    fetch(`${server.baseUrl}/grouppe.v1.AuthService/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  const cookieMode = { "x-grouppe-session": "cookie" };
  const credentials = { email: "token-test@example.com", password: "correct horse" };

  /** The refresh cookie a response sets, split into its value and attributes. */
  function setCookie(response: Response): { value: string; attributes: string[] } {
    const cookies = response.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    const [pair = "", ...attributes] = (cookies[0] ?? "").split("; ");
    expect(pair.startsWith("grouppe_refresh=")).toBe(true);
    return { value: pair.slice("grouppe_refresh=".length), attributes };
  }

  it("puts the refresh token in an HttpOnly, Secure, SameSite=Strict cookie on the auth path only", async () => {
    const response = await post("LogIn", credentials, cookieMode);
    expect(response.status).toBe(200);
    const { session } = (await response.json()) as { session: Record<string, unknown> };
    expect(session.accessToken).toEqual(expect.any(String));
    expect(session.refreshToken).toBeUndefined();
    const { value, attributes } = setCookie(response);
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(attributes).toEqual([
      "Path=/grouppe.v1.AuthService/",
      expect.stringMatching(/^Max-Age=259(1|2)\d{3}$/),
      "HttpOnly",
      "Secure",
      "SameSite=Strict",
    ]);
  });

  it("keeps the token in the body, and sets no cookie, for callers that did not ask", async () => {
    const response = await post("LogIn", credentials);
    const { session } = (await response.json()) as { session: Record<string, unknown> };
    expect(session.refreshToken).toEqual(expect.any(String));
    expect(response.headers.getSetCookie()).toEqual([]);
    // A cookie alone, without the header, is not read: only the web app opts in.
    const refresh = await post(
      "RefreshToken",
      {},
      { cookie: `grouppe_refresh=${session.refreshToken}` },
    );
    expect(refresh.status).toBe(400);
    expect(((await refresh.json()) as { code: string }).code).toBe("invalid_argument");
  });

  it("refreshes from the cookie, rotates it, and clears it when a used one comes back", async () => {
    const first = setCookie(await post("LogIn", credentials, cookieMode)).value;
    const refreshed = await post(
      "RefreshToken",
      {},
      { ...cookieMode, cookie: `grouppe_refresh=${first}` },
    );
    expect(refreshed.status).toBe(200);
    const { session } = (await refreshed.json()) as { session: Record<string, unknown> };
    expect(session.accessToken).toEqual(expect.any(String));
    expect(session.refreshToken).toBeUndefined();
    const second = setCookie(refreshed).value;
    expect(second).not.toBe(first);

    const replay = await post(
      "RefreshToken",
      {},
      { ...cookieMode, cookie: `grouppe_refresh=${first}` },
    );
    expect(replay.status).toBe(401);
    expect(setCookie(replay)).toEqual({
      value: "",
      attributes: expect.arrayContaining(["Max-Age=0", "Path=/grouppe.v1.AuthService/"]),
    });
    const none = await post("RefreshToken", {}, cookieMode);
    expect(none.status).toBe(401);
  });

  it("ends the session and clears the cookie on LogOut", async () => {
    const token = setCookie(await post("LogIn", credentials, cookieMode)).value;
    const cookie = `other=1; grouppe_refresh=${token}`;
    const logOut = await post("LogOut", {}, { ...cookieMode, cookie });
    expect(logOut.status).toBe(200);
    expect(setCookie(logOut).attributes).toContain("Max-Age=0");
    const after = await post("RefreshToken", {}, { ...cookieMode, cookie });
    expect(after.status).toBe(401);
  });
});
