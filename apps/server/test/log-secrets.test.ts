import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { AuthService, EventService } from "@grouppe/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../src/testing/index.js";

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ LOG_LEVEL: "trace", GROUPPE_RATE_LIMIT_AUTH: "4" });
});

afterAll(async () => {
  await server?.close();
});

describe("logs", () => {
  it("never contain a password or a token, whatever the auth flow does", async () => {
    const secrets: string[] = [];
    const password = "Sw0rdfish-and-chips";
    secrets.push(password, "wrong-Password-42");
    for (const transport of [
      createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
      createGrpcTransport({ baseUrl: server.baseUrl }),
    ]) {
      const auth = createClient(AuthService, transport);
      const email = `secret-${secrets.length}@example.com`;
      const { session } = await auth.signUp({ email, password, displayName: "Secretive" });
      if (!session) throw new Error("no session");
      secrets.push(session.accessToken, session.refreshToken);
      await auth.logIn({ email, password: "wrong-Password-42" }).catch(() => undefined);
      const bearer = { headers: { authorization: `Bearer ${session.accessToken}` } };
      await auth.getCurrentUser({}, bearer);
      const refreshed = (await auth.refreshToken({ refreshToken: session.refreshToken })).session;
      if (!refreshed) throw new Error("no session");
      secrets.push(refreshed.accessToken, refreshed.refreshToken);
      // Replay of a used refresh token, a garbage bearer, an invalid create: all error paths.
      await auth.refreshToken({ refreshToken: session.refreshToken }).catch(() => undefined);
      await createClient(EventService, transport)
        .createEvent({}, { headers: { authorization: `Bearer ${session.accessToken}x` } })
        .catch(() => undefined);
      await auth.logOut({ refreshToken: refreshed.refreshToken });
    }
    // Past the sign-in rate limit too.
    const limited = await createClient(
      AuthService,
      createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
    )
      .logIn({ email: "x@example.com", password })
      .catch((e: unknown) => ConnectError.from(e));
    expect((limited as ConnectError).code).toBe(Code.ResourceExhausted);

    const text = server.logs.join("\n");
    expect(server.logs.length).toBeGreaterThan(10);
    expect(text).toMatch(/requestId|reqId/);
    for (const secret of secrets)
      expect(text.includes(secret), `a secret leaked: ${secret.slice(0, 6)}…`).toBe(false);
    expect(text).not.toMatch(/authorization/i);
  });
});
