import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startTestServer, type TestServer } from "@grouppe/server/testing";
import { chromiumAvailable, launchChromium, testContextOptions } from "@grouppe/testkit";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";
import type { TransportKind } from "../../src/lib/api/transport-kind.js";
import { type ApiCall, contentTypes, recordApiCalls } from "./api-traffic.js";
import { quietServer } from "./quiet-server.js";
import { builtWebApp, webRoot } from "./web-build.js";

/** Where the browser tests leave their screenshots. */
export const artifacts = join(webRoot, "test-artifacts");
export const phone = { width: 390, height: 844 };
export const desktop = { width: 1280, height: 800 };
export const uiTimeout = 15_000;

/** Whether Chromium is here to run the browser tests (under CI it must be). */
export const runBrowserTests = chromiumAvailable();

/** One person on one device: a browser context, its page, its API calls and page errors. */
export interface Person {
  context: BrowserContext;
  page: Page;
  calls: ApiCall[];
  problems: string[];
}

/** What a browser test file drives: the real server with the built app, and Chromium. */
export interface BrowserApp {
  readonly server: TestServer;
  readonly browser: Browser;
  /** A browser context as one person on one device, recording the API calls it makes. */
  person(options: {
    transport: TransportKind;
    viewport?: { width: number; height: number };
    timezoneId?: string;
  }): Promise<Person>;
}

/**
 * Starts the server (with the built web app) and Chromium for the calling test file, and stops
 * both after it. Each browser test file has its own, so the files run side by side.
 */
export function useBrowserApp(): BrowserApp {
  let browser: Browser | undefined;
  let server: TestServer | undefined;
  beforeAll(async () => {
    if (!runBrowserTests) return;
    const webDir = builtWebApp();
    [server, browser] = await Promise.all([
      startTestServer({ ...quietServer, GROUPPE_WEB_DIR: webDir }),
      launchChromium(),
    ]);
    mkdirSync(artifacts, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  const app: BrowserApp = {
    get server() {
      if (!server) throw new Error("the server is not running");
      return server;
    },
    get browser() {
      if (!browser) throw new Error("Chromium is not running");
      return browser;
    },
    person: (options) => person(app, options),
  };
  return app;
}

async function person(
  app: BrowserApp,
  options: {
    transport: TransportKind;
    viewport?: { width: number; height: number };
    timezoneId?: string;
  },
): Promise<Person> {
  const context = await app.browser.newContext({
    ...testContextOptions,
    baseURL: app.server.baseUrl,
    viewport: options.viewport ?? desktop,
    locale: "en-US",
    timezoneId: options.timezoneId ?? "America/New_York",
  });
  const calls = recordApiCalls(context);
  const page = await context.newPage();
  page.setDefaultTimeout(uiTimeout);
  const problems = watchForProblems(page);
  // The transport is chosen by the query string once and remembered for the session.
  await page.goto(`/?transport=${options.transport}`);
  await page.getByRole("button", { name: "Menu" }).waitFor();
  return { context, page, calls, problems };
}

/**
 * Collects what the page reports going wrong: uncaught errors, and console errors such as a
 * Content-Security-Policy refusal. A failed call's HTTP status (a 401 for a wrong password) is
 * the API answering, not the page breaking, so those lines are left out.
 */
export function watchForProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    if (
      /^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())
    ) {
      return;
    }
    problems.push(`console: ${message.text()}`);
  });
  return problems;
}

let emailCounter = 0;

export const password = "correct horse battery";

/** Signs up through the form; returns the email address used. */
export async function signUp(page: Page, displayName: string): Promise<string> {
  emailCounter += 1;
  const email = `${displayName.toLowerCase().replace(/\W+/g, ".")}.${Date.now()}.${emailCounter}@example.com`;
  await page.goto("/signup");
  await page.locator("#display_name").fill(displayName);
  await page.locator("#email").fill(email);
  await page.locator("#password").fill(password);
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByTestId("signed-in-as").waitFor();
  await page.waitForURL((url) => url.pathname === "/");
  return email;
}

/** Logs out from the menu in the header. */
export async function logOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Menu" }).click();
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByTestId("signed-in-as").waitFor({ state: "detached" });
}

/** Picks a zone in the event form's time zone picker by typing part of its name. */
export async function pickTimeZone(page: Page, search: string, zone: string): Promise<void> {
  const picker = page.locator("#event-time-zone");
  await picker.click();
  await picker.fill(search);
  await page
    .getByRole("option", { name: new RegExp(zone.replaceAll("_", " ")) })
    .first()
    .waitFor();
  await picker.press("Enter");
  expect(await picker.inputValue()).toContain(zone.replaceAll("_", " "));
}

export async function createEvent(page: Page, title: string, capacity = "10"): Promise<string> {
  await page.goto("/events/new");
  await page.locator("#event-title").fill(title);
  await page.locator("#event-description").fill("Bring snacks.\n\nWe meet at the entrance.");
  await pickTimeZone(page, "berlin", "Europe/Berlin");
  await page.locator("#event-location-address").fill("Tempelhofer Feld, Berlin");
  await page.locator("#event-capacity").fill(capacity);
  await page.getByRole("button", { name: "Publish event" }).click();
  await page.waitForURL(/\/events\/[0-9a-f-]{36}$/);
  await page.getByRole("heading", { level: 1, name: title }).waitFor();
  return new URL(page.url()).pathname.split("/").at(-1) ?? "";
}

export async function waitForText(page: Page, testId: string, text: string): Promise<void> {
  await page
    .getByTestId(testId)
    .filter({ hasText: new RegExp(`^\\s*${text}\\s*$`) })
    .waitFor();
}

/** Marks the page's window so a later check can tell the page was never reloaded. */
export async function markWindow(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { grouppeMark?: boolean }).grouppeMark = true;
  });
}

export async function stillSameWindow(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { grouppeMark?: boolean }).grouppeMark === true);
}

export async function errorNextTo(page: Page, inputId: string): Promise<string> {
  const input = page.locator(`#${inputId}`);
  expect(await input.getAttribute("aria-invalid")).toBe("true");
  expect(await input.getAttribute("aria-describedby")).toContain(`${inputId}-error`);
  return (await page.locator(`#${inputId}-error`).innerText()).trim();
}

export function expectTransport(calls: readonly ApiCall[], transport: TransportKind): void {
  expect(calls.length).toBeGreaterThan(0);
  for (const call of calls) expect(call.contentType, call.method).toMatch(contentTypes[transport]);
}
