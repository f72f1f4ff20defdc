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

function session(refreshToken = "r1") {
  return storedSessionFrom(
    create(SessionSchema, {
      accessToken: "a1",
      accessTokenExpireTime: timestampFromMs(now + 60_000),
      refreshToken,
      refreshTokenExpireTime: timestampFromMs(now + 86_400_000),
      user: { id: "u1", email: "ada@example.com", displayName: "Ada" },
    }),
  );
}

describe("session", () => {
  it("persists across page loads and forgets on log-out", () => {
    const storage = memoryStorage();
    const first = createSession(storage, () => now);
    expect(first.user).toBeNull();
    first.set(session());
    expect(first.user?.displayName).toBe("Ada");
    const second = createSession(storage, () => now);
    expect(second.current).toEqual(session());
    second.clear();
    expect(storage.values.has(sessionStorageKey)).toBe(false);
    expect(second.endReason).toBeNull();
  });

  it("remembers why a session ended until the next sign-in", () => {
    const state = createSession(memoryStorage(), () => now);
    state.set(session());
    state.clear("revoked");
    expect(state.endReason).toBe("revoked");
    state.set(session("r2"));
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

  it("picks up a rotation or log-out from another tab on reload", () => {
    const storage = memoryStorage();
    const tabA = createSession(storage, () => now);
    tabA.set(session("r1"));
    const tabB = createSession(storage, () => now);
    tabA.set(session("r2"));
    expect(tabB.current?.refreshToken).toBe("r1");
    expect(tabB.reload()?.refreshToken).toBe("r2");
    tabA.clear();
    expect(tabB.reload()).toBeNull();
  });

  it("refuses an incomplete session message", () => {
    expect(() => storedSessionFrom(create(SessionSchema, { accessToken: "a" }))).toThrow(
      /complete/,
    );
  });
});
