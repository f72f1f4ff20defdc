/**
 * Child-process entry of the built-in load generator, so it never shares an event loop with
 * the server under test: receives `{ type: "run", spec }`, answers `{ type: "result", result }`.
 */
import { reportReady, serveParent } from "../child-process.js";
import type { LoadSpec } from "./load-spec.js";
import { runNodeH1Load } from "./node-h1-load.js";
import { runNodeH2Load } from "./node-h2-load.js";

serveParent<{ type: "run"; spec: LoadSpec }>("run", "result", async ({ spec }) => ({
  result: spec.transport === "h2c" ? await runNodeH2Load(spec) : await runNodeH1Load(spec),
}));
reportReady();
