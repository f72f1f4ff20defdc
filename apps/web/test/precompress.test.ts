import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const script = fileURLToPath(new URL("../scripts/precompress.mjs", import.meta.url));
const run = promisify(execFile);

describe("precompress.mjs", () => {
  let dir: string;
  const js = `export const words = ${JSON.stringify("grouppe ".repeat(400))};\n`;
  const css = `.card { margin: 0; }\n`.repeat(100);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "grouppe-precompress-"));
    await mkdir(join(dir, "_app/immutable/entry"), { recursive: true });
    await writeFile(join(dir, "_app/immutable/entry/start.js"), js);
    await writeFile(join(dir, "app.css"), css);
    await writeFile(join(dir, "tiny.js"), "export {};\n");
    await writeFile(join(dir, "logo.png"), Buffer.alloc(4096, 7));
    // Left by an earlier build whose page.html no longer exists.
    await writeFile(join(dir, "page.html.br"), "stale");
    await run(process.execPath, [script, dir]);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("writes brotli and gzip copies that decompress to the files", async () => {
    const start = join(dir, "_app/immutable/entry/start.js");
    expect(brotliDecompressSync(await readFile(`${start}.br`)).toString()).toBe(js);
    expect(gunzipSync(await readFile(`${start}.gz`)).toString()).toBe(js);
    expect(brotliDecompressSync(await readFile(join(dir, "app.css.br"))).toString()).toBe(css);
    expect((await readFile(`${start}.br`)).length).toBeLessThan(js.length / 10);
  });

  it("leaves out tiny files, binary types and copies of files that are gone", async () => {
    expect((await readdir(dir)).sort()).toEqual([
      "_app",
      "app.css",
      "app.css.br",
      "app.css.gz",
      "logo.png",
      "tiny.js",
    ]);
  });
});
