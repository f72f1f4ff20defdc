import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerWebApp } from "./web-app.js";

const page = `<!doctype html><html><head><script>start()</script></head><body>${"<p>grouppe</p>".repeat(60)}</body></html>`;
const script = `export function start() { return ${JSON.stringify("x".repeat(2000))}; }\n`;
const asset = "/_app/immutable/entry/start.Ab12.js";

/** A built app as the web build leaves it: each text file with its .br and .gz copies. */
async function writeBuild(dir: string): Promise<void> {
  const files: Record<string, string> = { "200.html": page, [asset.slice(1)]: script };
  for (const [path, text] of Object.entries(files)) {
    const file = join(dir, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
    await writeFile(`${file}.br`, brotliCompressSync(text));
    await writeFile(`${file}.gz`, gzipSync(text));
  }
  await writeFile(join(dir, "robots.txt"), "User-agent: *\n");
}

describe("registerWebApp", () => {
  let app: FastifyInstance;
  let webDir: string;

  beforeAll(async () => {
    webDir = await mkdtemp(join(tmpdir(), "grouppe-web-app-"));
    await writeBuild(webDir);
    app = Fastify();
    await registerWebApp(app, webDir);
  });

  afterAll(async () => {
    await app?.close();
    if (webDir) await rm(webDir, { recursive: true, force: true });
  });

  const get = (url: string, headers: Record<string, string> = {}) =>
    app.inject({ method: "GET", url, headers });

  it("sends the brotli copy to clients that accept it, else gzip, else the file", async () => {
    const br = await get(asset, { "accept-encoding": "gzip, deflate, br" });
    expect(br.statusCode).toBe(200);
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.headers["content-type"]).toMatch(/^text\/javascript|^application\/javascript/);
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(br.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(script);

    const gz = await get(asset, { "accept-encoding": "gzip" });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gz.headers.vary).toMatch(/accept-encoding/i);
    expect(gunzipSync(gz.rawPayload).toString()).toBe(script);

    const plain = await get(asset);
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.headers.vary).toMatch(/accept-encoding/i);
    expect(plain.body).toBe(script);
  });

  it("sends a file without compressed copies as it is", async () => {
    const robots = await get("/robots.txt", { "accept-encoding": "br" });
    expect(robots.statusCode).toBe(200);
    expect(robots.headers["content-encoding"]).toBeUndefined();
    expect(robots.body).toBe("User-agent: *\n");
  });

  it("sends the app for / to clients that do not ask for JSON, curl's */* included", async () => {
    for (const accept of [undefined, "*/*", "text/html,application/xhtml+xml,*/*;q=0.8"]) {
      const response = await get("/", accept === undefined ? {} : { accept });
      expect(response.statusCode, String(accept)).toBe(200);
      expect(response.headers["content-type"], String(accept)).toMatch(/^text\/html/);
      expect(response.body, String(accept)).toBe(page);
      expect(response.headers.vary, String(accept)).toMatch(/\baccept\b/i);
    }
    const route = await get("/events/42?tab=people", { accept: "*/*" });
    expect(route.statusCode).toBe(200);
    expect(route.body).toBe(page);
  });

  it("sends the page compressed, with the policy of the page itself", async () => {
    const plain = await get("/", { accept: "text/html" });
    const policy = plain.headers["content-security-policy"];
    expect(policy).toContain("script-src 'self' 'sha256-");
    const br = await get("/", { accept: "text/html", "accept-encoding": "br" });
    expect(br.headers["content-encoding"]).toBe("br");
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(page);
    expect(br.headers["content-security-policy"]).toBe(policy);
    const gz = await get("/", { accept: "text/html", "accept-encoding": "gzip" });
    expect(gunzipSync(gz.rawPayload).toString()).toBe(page);
    expect(gz.headers["content-security-policy"]).toBe(policy);
  });

  it("answers JSON 404s to clients that ask for JSON, and for missing files and API paths", async () => {
    const json = await get("/", { accept: "application/json" });
    expect(json.statusCode).toBe(404);
    expect(json.json()).toMatchObject({ statusCode: 404, message: "GET / is not here" });
    for (const url of [
      "/_app/immutable/entry/missing.js",
      "/missing.png",
      "/grouppe.v1.EventService/Nope",
      "/metrics/x",
    ]) {
      const response = await get(url, { accept: "*/*" });
      expect(response.statusCode, url).toBe(404);
      expect(response.headers["content-type"], url).toMatch(/^application\/json/);
    }
  });
});
