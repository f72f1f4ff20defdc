import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { SessionSchema } from "@grouppe/api";
import { describe, expect, it } from "vitest";
import { createSession, sessionStorageKey, storedSessionFrom } from "./session.svelte.js";

function memoryStorage() {
  const values = new Map<string, string>();
  return {
    values,
    getItem: (key: string) => values.get(key) ?? null,
    setItem: (key: string, value: string) => void values.set(key, value),
    removeItem: (key: string) => void values.delete(key),
  };
}

const now = 1_900_000_000_000;

function session(accessToken = "a1", userId = "u1") {
  return storedSessionFrom(
    create(SessionSchema, {
      accessToken,
      accessTokenExpireTime: timestampFromMs(now + 60_000),
      refreshTokenExpireTime: timestampFromMs(now + 86_400_000),
      user: { id: userId, email: "ada@example.com", displayName: "Ada" },
    }),
  );
}

describe("session", () => {
  it("remembers who is signed in across page loads, never a token, and forgets on log-out", () => {
    const storage = memoryStorage();
    const first = createSession(storage, () => now);
    expect(first.user).toBeNull();
    first.set(session());
    expect(first.current?.accessToken).toBe("a1");
    expect(storage.values.get(sessionStorageKey)).toBe(
      JSON.stringify({
        user: { id: "u1", email: "ada@example.com", displayName: "Ada" },
        refreshTokenExpiresAt: now + 86_400_000,
      }),
    );
    const second = createSession(storage, () => now);
    expect(second.user?.displayName).toBe("Ada");
    // The access token stayed in the first page's memory; the next one refreshes first.
    expect(second.current).toEqual({ ...session(), accessToken: "", accessTokenExpiresAt: 0 });
    second.clear();
    expect(storage.values.has(sessionStorageKey)).toBe(false);
    expect(second.endReason).toBeNull();
  });

  it("wipes the tokens an older version kept in storage", () => {
    const storage = memoryStorage();
    storage.setItem(
      sessionStorageKey,
      JSON.stringify({
        accessToken: "old-access",
        accessTokenExpiresAt: now + 60_000,
        refreshToken: "old-refresh",
        refreshTokenExpiresAt: now + 86_400_000,
        user: { id: "u1", email: "ada@example.com", displayName: "Ada" },
      }),
    );
    const state = createSession(storage, () => now);
    expect(state.user?.id).toBe("u1");
    expect(state.current?.accessToken).toBe("");
    expect(storage.values.get(sessionStorageKey)).not.toMatch(/old-|Token"/);
  });

  it("remembers why a session ended until the next sign-in", () => {
    const state = createSession(memoryStorage(), () => now);
    state.set(session());
    state.clear("revoked");
    expect(state.endReason).toBe("revoked");
    state.set(session("a2"));
    expect(state.endReason).toBeNull();
  });

  it("drops a stored session that can no longer be renewed, and ignores junk", () => {
    const storage = memoryStorage();
    createSession(storage, () => now).set(session());
    expect(createSession(storage, () => now + 2 * 86_400_000).current).toBeNull();
    expect(storage.values.has(sessionStorageKey)).toBe(false);
    storage.setItem(sessionStorageKey, "{not json");
    expect(createSession(storage, () => now).current).toBeNull();
    storage.setItem(sessionStorageKey, JSON.stringify({ accessToken: 1 }));
    expect(createSession(storage, () => now).current).toBeNull();
  });

  it("follows another tab's log-out or change of user on reload, keeping its own token", () => {
    const storage = memoryStorage();
    const tabA = createSession(storage, () => now);
    tabA.set(session("a1"));
    const tabB = createSession(storage, () => now);
    tabB.set(session("b1"));
    tabA.set(session("a2"));
    expect(tabB.reload()?.accessToken).toBe("b1");
    tabA.set(session("a3", "u2"));
    expect(tabB.reload()).toEqual({
      ...session("a3", "u2"),
      accessToken: "",
      accessTokenExpiresAt: 0,
    });
    tabA.clear();
    expect(tabB.reload()).toBeNull();
  });

  it("refuses an incomplete session message", () => {
    expect(() => storedSessionFrom(create(SessionSchema, { accessToken: "a" }))).toThrow(
      /complete/,
    );
  });
});
