import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { AuthService, CreateEventRequestSchema, EventService, Relation } from "@grouppe/api";
import { startTestServer, type TestServer } from "@grouppe/server/testing";
import { chromiumAvailable, launchChromium, testContextOptions } from "@grouppe/testkit";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type ApiClients, createApiClients, createTransport } from "../src/lib/api/api-clients.js";
import { errorReason } from "../src/lib/api/error-messages.js";
import {
  createSession,
  type SessionState,
  storedSessionFrom,
} from "../src/lib/api/session.svelte.js";
import type { TransportKind } from "../src/lib/api/transport-kind.js";
import { type CookieJar, createCookieJar } from "./support/cookie-jar.js";
import { quietServer } from "./support/quiet-server.js";
import { builtWebApp, defaultBuildDir } from "./support/web-build.js";

/** The shortest access token lifetime the server accepts, so tokens expire during the test. */
const accessTokenSeconds = 10;

interface Person {
  api: ApiClients;
  session: SessionState;
  /** What the browser would keep: the HttpOnly refresh cookie. */
  cookies: CookieJar;
  email: string;
}

const refreshCookie = "grouppe_refresh";
const runBrowserTests = chromiumAvailable();

let server: TestServer;
const people = new Map<string, Person>();
const eventOf = new Map<string, string>();

function memoryStorage() {
  const values = new Map<string, string>();
  return {
    getItem: (key: string) => values.get(key) ?? null,
    setItem: (key: string, value: string) => void values.set(key, value),
    removeItem: (key: string) => void values.delete(key),
  };
}

async function signUp(transportKind: TransportKind, name: string): Promise<Person> {
  const session = createSession(memoryStorage());
  const cookies = createCookieJar();
  const api = createApiClients({
    baseUrl: server.baseUrl,
    transportKind,
    session,
    fetch: cookies.fetch,
  });
  const email = `${name.replace(/\W+/g, ".")}.${Date.now()}@example.com`;
  const response = await api.auth.signUp({ displayName: name, email, password });
  expect(response.session?.refreshToken).toBe("");
  expect(cookies.get(refreshCookie)).toMatch(/^[\w-]{43}$/);
  session.set(storedSessionFrom(response.session));
  return { api, session, cookies, email };
}

function key(transport: TransportKind, role: string): string {
  return `${transport}/${role}`;
}

function personFor(transport: TransportKind, role: string): Person {
  const found = people.get(key(transport, role));
  if (!found) throw new Error(`no ${role} for ${transport}`);
  return found;
}

/** Makes the client's clock believe a token that the server already refuses is still good. */
function pretendTokenIsFresh(session: SessionState): void {
  const current = session.current;
  if (!current) throw new Error("signed out");
  session.set({ ...current, accessTokenExpiresAt: Date.now() + 3_600_000 });
}

function eventInit(title: string) {
  const start = new Date(Date.now() + 7 * 86_400_000);
  return create(CreateEventRequestSchema, {
    event: {
      title,
      timeZone: "UTC",
      startsAt: timestampFromDate(start),
      endsAt: timestampFromDate(new Date(start.getTime() + 3_600_000)),
      location: { kind: { case: "address", value: "Town hall" } },
    },
  });
}

const password = "correct horse battery";
const transports: TransportKind[] = ["connect", "grpc-web"];
const roles = ["concurrent", "reactive", "stream", "revoked", "relogin"];

beforeAll(async () => {
  // Client and server share this process, and so its clock, which the tests move forward (it
  // never goes back, and runs on between moves). Chromium keeps its own clock: a server clock
  // ahead of it only makes the browser's tokens look fresher, never expired.
  vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
  server = await startTestServer({
    ...quietServer,
    GROUPPE_WEB_DIR: runBrowserTests ? builtWebApp() : defaultBuildDir,
    GROUPPE_ACCESS_TOKEN_TTL_SECONDS: String(accessTokenSeconds),
  });
  for (const transport of transports) {
    for (const role of roles) {
      const person = await signUp(transport, `${role} ${transport}`);
      people.set(key(transport, role), person);
    }
    const streamer = personFor(transport, "stream");
    const { event } = await streamer.api.events.createEvent(eventInit(`Watched over ${transport}`));
    eventOf.set(transport, event?.id ?? "");
  }
});

afterAll(async () => {
  await server?.close();
  vi.useRealTimers();
});

describe.each(transports)("the session over %s", (transport) => {
  // Moving the shared clock past every access token's expiry expires them for client and
  // server alike, without waiting out their lifetime.
  beforeAll(() => {
    const expiries = [...people.values()].map((p) => p.session.current?.accessTokenExpiresAt ?? 0);
    vi.setSystemTime(Math.max(Date.now(), ...expiries) + 1_000);
  });

  it("refreshes an expired token once for concurrent calls, and rotates the refresh token", async () => {
    const { api, session, cookies } = personFor(transport, "concurrent");
    const before = session.current;
    const refreshBefore = cookies.get(refreshCookie) ?? "";
    if (!before) throw new Error("signed out");
    const [first, second, current, listed] = await Promise.all([
      api.events.createEvent(eventInit("First")),
      api.events.createEvent(eventInit("Second")),
      api.auth.getCurrentUser({}),
      api.events.listEvents({ relation: Relation.ORGANIZING }),
    ]);
    expect(api.refresher.refreshCount).toBe(1);
    expect(current.user?.id).toBe(before.user.id);
    expect([first.event?.title, second.event?.title]).toEqual(["First", "Second"]);
    // The listing ran beside the creates, so it may see either, both or neither of them;
    // what matters is that it was answered with the refreshed token. Afterwards both are there.
    expect(listed.events.every((e) => e.title === "First" || e.title === "Second")).toBe(true);
    const after = await api.events.listEvents({ relation: Relation.ORGANIZING });
    expect(after.events.map((e) => e.title).sort()).toEqual(["First", "Second"]);
    expect(api.refresher.refreshCount).toBe(1);
    expect(cookies.get(refreshCookie)).not.toBe(refreshBefore);
    expect(session.current?.accessToken).not.toBe(before.accessToken);

    // The old refresh token was used up: presenting it again is refused as reuse.
    const bare = createClient(AuthService, createTransport(transport, server.baseUrl));
    const reuse = await bare.refreshToken({ refreshToken: refreshBefore }).catch((e) => e);
    expect(reuse).toBeInstanceOf(ConnectError);
    expect((reuse as ConnectError).code).toBe(Code.Unauthenticated);
    expect(errorReason(reuse)).toBe("REFRESH_TOKEN_REUSED");
  });

  it("retries once when the server refuses a token the client still thought valid", async () => {
    const { api, session } = personFor(transport, "reactive");
    pretendTokenIsFresh(session);
    const { user } = await api.auth.getCurrentUser({});
    expect(user?.id).toBe(session.user?.id);
    expect(api.refresher.refreshCount).toBe(1);
  });

  it("retries a stream the server refused before its first message", async () => {
    const { api, session } = personFor(transport, "stream");
    pretendTokenIsFresh(session);
    const abort = new AbortController();
    const stream = api.events.watchEvent(
      { id: eventOf.get(transport) ?? "" },
      { signal: abort.signal },
    );
    for await (const message of stream) {
      expect(message.change.case).toBe("snapshot");
      expect(
        message.change.value && "title" in message.change.value && message.change.value.title,
      ).toBe(`Watched over ${transport}`);
      break;
    }
    abort.abort();
    expect(api.refresher.refreshCount).toBe(1);
  });

  it("ends the session when the refresh token no longer works", async () => {
    const { api, session, cookies } = personFor(transport, "revoked");
    const refreshToken = cookies.get(refreshCookie) ?? "";
    // Logged out elsewhere: the server revoked the refresh token this client still holds.
    await createClient(AuthService, createTransport(transport, server.baseUrl)).logOut({
      refreshToken,
    });
    const failure = await api.auth.getCurrentUser({}).catch((e) => e);
    expect(failure).toBeInstanceOf(ConnectError);
    expect((failure as ConnectError).code).toBe(Code.Unauthenticated);
    expect(session.current).toBeNull();
    // The server reports a revoked family as reuse or as an invalid token; either ends it here.
    expect(session.endReason).toMatch(/^(expired|revoked)$/);
    // Signed out now, public reads still work.
    await api.events.listEvents({});
  });

  it("never sends a dead session's token with LogIn", async () => {
    const { api, session, cookies, email } = personFor(transport, "relogin");
    const current = session.current;
    if (!current) throw new Error("signed out");
    // Tokens the server never issued: sent along, they would make the server refuse LogIn.
    session.set({
      ...current,
      accessToken: "not.a.token",
      accessTokenExpiresAt: Date.now() + 3_600_000,
    });
    cookies.set(refreshCookie, "not-a-refresh-token", "/grouppe.v1.AuthService/");
    const { session: fresh } = await api.auth.logIn({ email, password });
    expect(fresh?.user?.email).toBe(email);
    expect(api.refresher.refreshCount).toBe(0);
  });
});

describe.skipIf(!runBrowserTests)("the session in Chromium", () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
    context = await browser.newContext({ ...testContextOptions, baseURL: server.baseUrl });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** The session's answer to SignUp or RefreshToken, as the page received it. */
  async function sessionFrom(method: string, action: () => Promise<unknown>) {
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/grouppe.v1.AuthService/${method}`)),
      action(),
    ]);
    expect(response.status()).toBe(200);
    return ((await response.json()) as { session: { accessToken: string; refreshToken?: string } })
      .session;
  }

  async function cookieInJar() {
    return (await context.cookies()).find((cookie) => cookie.name === refreshCookie);
  }

  /** Everything a script on the page can read without calling the server. */
  function readableByScripts(): Promise<string> {
    return page.evaluate(() =>
      JSON.stringify({
        local: Object.entries(localStorage),
        session: Object.entries(sessionStorage),
        cookie: document.cookie,
      }),
    );
  }

  async function expectNoTokenReadable(secrets: readonly string[]): Promise<void> {
    const readable = await readableByScripts();
    for (const secret of secrets) expect(readable).not.toContain(secret);
    expect(readable).not.toMatch(/eyJ|grouppe_refresh/);
    expect(await page.evaluate(() => document.cookie)).toBe("");
  }

  it("keeps no token where scripts can read it, survives a reload and ends on log-out", async () => {
    await page.goto("/?transport=connect");
    await page.getByRole("button", { name: "Menu" }).waitFor();
    const email = `cookie.${Date.now()}@example.com`;
    await page.goto("/signup");
    await page.locator("#display_name").fill("Cookie Person");
    await page.locator("#email").fill(email);
    await page.locator("#password").fill(password);
    const signedUp = await sessionFrom("SignUp", () =>
      page.getByRole("button", { name: "Sign up" }).click(),
    );
    await page.getByTestId("signed-in-as").waitFor({ state: "attached" });
    expect(signedUp.refreshToken).toBeUndefined();
    const cookie = await cookieInJar();
    expect(cookie).toMatchObject({
      path: "/grouppe.v1.AuthService/",
      httpOnly: true,
      secure: true,
      sameSite: "Strict",
    });
    const secrets = [signedUp.accessToken, cookie?.value ?? ""];
    await expectNoTokenReadable(secrets);

    // Something only this person can list, to tell a restored session from a remembered name.
    const events = createClient(EventService, createTransport("connect", server.baseUrl));
    const title = `Kept across reloads ${Date.now()}`;
    await events.createEvent(eventInit(title), {
      headers: { authorization: `Bearer ${signedUp.accessToken}` },
    });

    // The reload forgets the access token; the cookie brings the session back.
    // The new page restores the session itself; only once that refresh is answered can the
    // next response be told to be the reload's (a late answer to a replaced page has no body).
    await page.goto("/my-events");
    await page.getByRole("link", { name: title }).waitFor();
    const restored = await sessionFrom("RefreshToken", () => page.reload());
    await page.getByRole("link", { name: title }).waitFor();
    await page.getByTestId("signed-in-as").waitFor({ state: "attached" });
    const rotated = await cookieInJar();
    expect(rotated?.value).not.toBe(cookie?.value);
    secrets.push(restored.accessToken, rotated?.value ?? "");
    await expectNoTokenReadable(secrets);

    // Log-out ends the session on the server and takes the cookie away.
    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("link", { name: "Log in" }).first().waitFor();
    expect(await cookieInJar()).toBeUndefined();
    await page.goto("/my-events");
    await page.reload();
    await page.getByRole("link", { name: "Log in" }).first().waitFor();
    expect(await page.getByRole("link", { name: title }).count()).toBe(0);
    const replay = await createClient(AuthService, createTransport("connect", server.baseUrl))
      .refreshToken({ refreshToken: rotated?.value ?? "" })
      .catch((e) => e);
    expect((replay as ConnectError).code).toBe(Code.Unauthenticated);
  });
});
