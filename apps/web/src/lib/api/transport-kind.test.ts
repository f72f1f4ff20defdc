import { describe, expect, it } from "vitest";
import { resolveTransportKind, transportStorageKey } from "./transport-kind.js";

function memoryStorage(initial: Record<string, string> = {}) {
  const values = new Map(Object.entries(initial));
  return {
    values,
    getItem: (key: string) => values.get(key) ?? null,
    setItem: (key: string, value: string) => void values.set(key, value),
    removeItem: (key: string) => void values.delete(key),
  };
}

describe("resolveTransportKind", () => {
  it("defaults to Connect", () => {
    expect(
      resolveTransportKind({ search: "", storage: memoryStorage(), buildDefault: undefined }),
    ).toBe("connect");
  });

  it("takes the build-time default", () => {
    const storage = memoryStorage();
    expect(resolveTransportKind({ search: "", storage, buildDefault: "grpc-web" })).toBe(
      "grpc-web",
    );
    expect(storage.values.size).toBe(0);
  });

  it("lets ?transport= win and remembers it for later pages", () => {
    const storage = memoryStorage();
    expect(
      resolveTransportKind({ search: "?transport=grpc-web", storage, buildDefault: "connect" }),
    ).toBe("grpc-web");
    expect(storage.values.get(transportStorageKey)).toBe("grpc-web");
    expect(resolveTransportKind({ search: "?q=x", storage, buildDefault: "connect" })).toBe(
      "grpc-web",
    );
  });

  it("ignores unknown values and forgets the choice on ?transport=default", () => {
    const storage = memoryStorage({ [transportStorageKey]: "grpc-web" });
    expect(
      resolveTransportKind({
        search: "?transport=carrier-pigeon",
        storage,
        buildDefault: undefined,
      }),
    ).toBe("grpc-web");
    expect(
      resolveTransportKind({ search: "?transport=default", storage, buildDefault: undefined }),
    ).toBe("connect");
    expect(storage.values.has(transportStorageKey)).toBe(false);
  });

  it("works without storage", () => {
    expect(
      resolveTransportKind({
        search: "?transport=grpc-web",
        storage: undefined,
        buildDefault: undefined,
      }),
    ).toBe("grpc-web");
  });
});
