import { ensurePgliteTemplate } from "../store/pglite-template.js";

/** Part of the build: makes the migrated database template new PGlite databases start from. */
const started = performance.now();
const path = await ensurePgliteTemplate();
process.stdout.write(`pglite template: ${path} (${Math.round(performance.now() - started)} ms)\n`);
