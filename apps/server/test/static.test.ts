import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  chromiumAvailable,
  eventually,
  launchChromium,
  testContextOptions,
} from "@grouppe/testkit";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../src/testing/index.js";
import { curl } from "./support/transport-helpers.js";

const builtWebApp = join(dirname(fileURLToPath(import.meta.url)), "../../web/build");

/** SvelteKit's static output in miniature: a fallback page started by an inline script. */
const bootScript = `
				{
					const element = document.currentScript.parentElement;
					import("/_app/immutable/entry/start.B7x9.js").then((kit) => kit.start(element));
				}
			`;
const fallbackPage = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
    <link href="/_app/immutable/entry/start.B7x9.js" rel="modulepreload">
  </head>
  <body data-sveltekit-preload-data="hover">
    <div style="display: contents">
			<script>${bootScript}</script>
		</div>
  </body>
</html>
`;
const startModule = `export function start(element) {
  const main = document.createElement("main");
  main.textContent = "started at " + location.pathname;
  element.append(main);
  document.body.dataset.started = "yes";
}
`;

function sha256(text: string): string {
  return `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
}

async function writeWebApp(dir: string): Promise<void> {
  const files: Record<string, string> = {
    "200.html": fallbackPage,
    "_app/immutable/entry/start.B7x9.js": startModule,
    "_app/version.json": '{"version":"1"}',
    "favicon.svg": '<svg xmlns="http://www.w3.org/2000/svg"/>',
  };
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

function directives(policy: string | undefined): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of (policy ?? "").split(";")) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) map.set(name, values);
  }
  return map;
}

/** Outside CI a machine without Chromium skips the browser checks; in CI it fails. */
const hasChromium = chromiumAvailable();

let browser: Browser | undefined;

async function launchBrowser(): Promise<Browser> {
  browser ??= await launchChromium();
  return browser;
}

async function closeBrowser(): Promise<void> {
  await browser?.close();
  browser = undefined;
}

/**
 * Opens `url` in Chromium, waits until `ready` (a page expression) holds, evaluates `after`
 * and returns its result with the CSP violations and console errors the page caused.
 */
async function visit(url: string, ready: string, after: string) {
  const page = await (await launchBrowser()).newPage(testContextOptions);
  // Page code is passed as strings: this package's TypeScript knows Node, not the DOM.
  // DevTools evaluation is not subject to the page's policy; waitForFunction would be (eval).
  await page.addInitScript(`
    window.violations = [];
    document.addEventListener("securitypolicyviolation", (event) =>
      window.violations.push(event.violatedDirective + " " + event.blockedURI));
  `);
  const consoleErrors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  const response = await page.goto(url, { waitUntil: "load" });
  await eventually(async () => Boolean(await page.evaluate(ready)), {
    what: `the page to get ready (${ready})`,
    intervalMs: 50,
  });
  const result: unknown = await page.evaluate(after);
  const violations = (await page.evaluate("window.violations")) as string[];
  const snapshot = { status: response?.status(), violations, consoleErrors, result, page };
  return snapshot;
}

describe("the web app", () => {
  let server: TestServer;
  let webDir: string;

  beforeAll(async () => {
    webDir = await mkdtemp(join(tmpdir(), "grouppe-web-"));
    await writeWebApp(webDir);
    server = await startTestServer({ GROUPPE_WEB_DIR: webDir });
  });

  afterAll(async () => {
    await closeBrowser();
    await server?.close();
    await rm(webDir, { recursive: true, force: true });
  });

  it("sends the fallback page for / and for client-side routes, over HTTP/1.1 and HTTP/2", async () => {
    for (const path of ["/", "/events/42?tab=attendees"]) {
      for (const flag of ["--http1.1", "--http2-prior-knowledge"]) {
        const response = await curl(`${server.baseUrl}${path}`, [
          flag,
          "-H",
          "accept: text/html,*/*;q=0.8",
        ]);
        expect(response.status, `${flag} ${path}`).toBe(200);
        expect(response.headers["content-type"]).toMatch(/^text\/html/);
        expect(response.body).toBe(fallbackPage);
        expect(response.headers["cache-control"]).toBe("no-cache");
      }
    }
  });

  it("protects pages with a strict Content-Security-Policy that allows exactly the inline boot script", async () => {
    const response = await curl(`${server.baseUrl}/events/42`, ["-H", "accept: text/html"]);
    const policy = directives(response.headers["content-security-policy"]);
    expect(policy.get("default-src")).toEqual(["'self'"]);
    expect(policy.get("script-src")).toEqual(["'self'", sha256(bootScript)]);
    expect(policy.get("style-src")).toEqual([
      "'self'",
      "'unsafe-hashes'",
      sha256("display: contents"),
    ]);
    expect(policy.get("connect-src")).toEqual(["'self'"]);
    expect(policy.get("frame-ancestors")).toEqual(["'none'"]);
    expect(policy.get("object-src")).toEqual(["'none'"]);
    expect(response.headers["content-security-policy"]).not.toContain("unsafe-inline");
    expect(response.headers["content-security-policy"]).not.toContain("unsafe-eval");
    expect(response.headers["x-content-type-options"]).toBe("nosniff");
    expect(response.headers["referrer-policy"]).toBe("no-referrer");
    expect(response.headers["x-frame-options"]).toBe("DENY");
  });

  it("caches hashed assets for a year and revalidates the rest", async () => {
    const asset = await curl(`${server.baseUrl}/_app/immutable/entry/start.B7x9.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers["content-type"]).toMatch(/javascript/);
    expect(asset.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(asset.headers["x-content-type-options"]).toBe("nosniff");
    const icon = await curl(`${server.baseUrl}/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers["cache-control"]).toBe("no-cache");
  });

  it("answers 404, not the page, for missing assets and API paths", async () => {
    const missing = await curl(`${server.baseUrl}/_app/immutable/entry/missing.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers["content-type"]).toMatch(/^application\/json/);
    for (const path of [
      "/grouppe.v1.EventService/NoSuchMethod",
      "/grpc.health.v1.Health/Nope",
      "/metrics/x",
    ]) {
      const response = await curl(`${server.baseUrl}${path}`, ["-H", "accept: text/html"]);
      expect(response.status, path).toBe(404);
      expect(response.body, path).not.toContain("<!doctype html>");
    }
    const post = await curl(`${server.baseUrl}/events/42`, [
      "-X",
      "POST",
      "-H",
      "accept: text/html",
      "--data",
      "x",
    ]);
    expect(post.status).toBe(404);
    const probe = await curl(`${server.baseUrl}/healthz`, ["-H", "accept: text/html"]);
    expect(probe.headers["content-type"]).toMatch(/^application\/json/);
  });

  it.skipIf(!hasChromium)(
    "runs in Chromium under its policy, which still blocks injected inline code",
    async () => {
      const visited = await visit(
        `${server.baseUrl}/events/42`,
        "document.body.dataset.started === 'yes'",
        `(async () => {
        const script = document.createElement("script");
        script.textContent = "document.body.dataset.injected = 'yes'";
        document.body.append(script);
        const style = document.createElement("style");
        style.textContent = "body { color: red }";
        document.head.append(style);
        await new Promise((resolve) => setTimeout(resolve, 100));
        return {
          started: document.body.dataset.started,
          text: document.querySelector("main")?.textContent,
          injected: document.body.dataset.injected ?? "no",
        };
      })()`,
      );
      expect(visited.status).toBe(200);
      expect(visited.result).toEqual({
        started: "yes",
        text: "started at /events/42",
        injected: "no",
      });
      expect(visited.violations).toEqual(["script-src-elem inline", "style-src-elem inline"]);
      await visited.page.close();
    },
  );
});

// turbo builds the web app before this package's tests (turbo.json), so it is there to test.
describe("the built SvelteKit app", () => {
  let server: TestServer;

  beforeAll(async () => {
    if (!existsSync(join(builtWebApp, "200.html")))
      throw new Error(`no built web app in ${builtWebApp}: run "npm run build" first`);
    server = await startTestServer({ GROUPPE_WEB_DIR: builtWebApp });
  });

  afterAll(async () => {
    await closeBrowser();
    await server?.close();
  });

  it.skipIf(!hasChromium)(
    "starts in Chromium without a single Content-Security-Policy violation",
    async () => {
      // The app has started once it rendered something; it may keep a live stream open, so the
      // network never goes idle.
      const visited = await visit(
        `${server.baseUrl}/`,
        "document.body.innerText.trim().length > 0",
        "document.body.innerText.trim().length",
      );
      expect(visited.status).toBe(200);
      expect(visited.violations).toEqual([]);
      expect(visited.consoleErrors.filter((text) => /Content Security Policy/i.test(text))).toEqual(
        [],
      );
      expect(visited.result).toBeGreaterThan(0);
      await visited.page.close();
    },
  );
});
