// @ts-check
// Part of `npm run build`: writes a brotli (.br) and a gzip (.gz) copy beside every text file of
// the built app, at the highest levels, once. The server sends whichever the client accepts
// (`preCompressed` in apps/server/src/http/web-app.ts) without compressing per request.
import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Types that compress; images, fonts and the like are compressed already. */
const textTypes = new Set([
  ".html",
  ".js",
  ".mjs",
  ".css",
  ".svg",
  ".json",
  ".txt",
  ".xml",
  ".webmanifest",
  ".map",
]);
/** Below this a compressed copy saves less than the headers it costs. */
const minBytes = 512;

const dir = process.argv[2] ?? process.env.GROUPPE_WEB_BUILD_DIR ?? "build";

/** @param {string} root @returns {AsyncGenerator<string>} */
async function* files(root) {
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

/** @param {string} path @returns {Promise<[number, number, number]>} */
async function precompress(path) {
  const bytes = await readFile(path);
  const [br, gz] = await Promise.all([
    brotli(bytes, {
      params: {
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }),
    gzipAsync(bytes, { level: constants.Z_BEST_COMPRESSION }),
  ]);
  // A copy that is not smaller is not worth sending; the server then sends the file itself.
  if (br.length < bytes.length) await writeFile(`${path}.br`, br);
  if (gz.length < bytes.length) await writeFile(`${path}.gz`, gz);
  return [bytes.length, br.length, gz.length];
}

const started = performance.now();
const all = [];
for await (const path of files(dir)) all.push(path);
// Copies from an earlier build would outlive the files they were made from.
await Promise.all(all.filter((p) => /\.(br|gz)$/.test(p)).map((p) => rm(p)));
const targets = [];
for (const path of all) {
  if (!textTypes.has(extname(path)) || (await stat(path)).size < minBytes) continue;
  targets.push(path);
}
const sizes = await Promise.all(targets.map(precompress));
const total = sizes.reduce(
  (sum, [raw, br, gz]) => [sum[0] + raw, sum[1] + br, sum[2] + gz],
  [0, 0, 0],
);
const kb = (/** @type {number} */ n) => `${Math.round(n / 1024)} KB`;
console.log(
  `precompressed ${targets.length} files in ${dir}: ${kb(total[0])} -> ${kb(total[1])} brotli, ${kb(total[2])} gzip (${Math.round(performance.now() - started)} ms)`,
);
