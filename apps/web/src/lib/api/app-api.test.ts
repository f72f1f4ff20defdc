import { afterEach, describe, expect, it, vi } from "vitest";

/** A page at `search` with empty storage: what `appApi()` reads of the browser. */
function pageAt(search: string): void {
  const items = new Map<string, string>();
  vi.stubGlobal("window", {
    location: { search, origin: "http://127.0.0.1:8080" },
    localStorage: {
      getItem: (key: string) => items.get(key) ?? null,
      setItem: (key: string, value: string) => items.set(key, value),
      removeItem: (key: string) => items.delete(key),
    },
    addEventListener: () => undefined,
  });
  vi.stubGlobal("navigator", {});
}

// Vite replaces import.meta.env.VITE_* at build time; vitest reads the same variables, so this
// proves the build's VITE_GROUPPE_TRANSPORT reaches the app without building it again.
describe("appApi", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it("speaks the transport the build chose with VITE_GROUPPE_TRANSPORT", async () => {
    vi.stubEnv("VITE_GROUPPE_TRANSPORT", "grpc-web");
    pageAt("");
    const { appApi } = await import("./app-api.js");
    expect(appApi().transportKind).toBe("grpc-web");
  });

  it("lets ?transport= override the build's choice", async () => {
    vi.stubEnv("VITE_GROUPPE_TRANSPORT", "grpc-web");
    pageAt("?transport=connect");
    const { appApi } = await import("./app-api.js");
    expect(appApi().transportKind).toBe("connect");
  });

  it("speaks Connect when the build chose nothing", async () => {
    vi.stubEnv("VITE_GROUPPE_TRANSPORT", undefined);
    pageAt("");
    const { appApi } = await import("./app-api.js");
    expect(appApi().transportKind).toBe("connect");
  });
});
