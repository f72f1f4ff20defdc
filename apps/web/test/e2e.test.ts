import { mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { startTestServer, type TestServer } from "@grouppe/server/testing";
import { chromiumAvailable, launchChromium } from "@grouppe/testkit";
import ICAL from "ical.js";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TransportKind } from "../src/lib/api/transport-kind.js";
import { type ApiCall, contentTypes, recordApiCalls } from "./support/api-traffic.js";
import { quietServer } from "./support/quiet-server.js";
import { seedEvents } from "./support/seed-events.js";
import { builtWebApp, webRoot } from "./support/web-build.js";

const artifacts = join(webRoot, "test-artifacts");
const phone = { width: 390, height: 844 };
const desktop = { width: 1280, height: 800 };
const uiTimeout = 15_000;

const runBrowserTests = chromiumAvailable();

let browser: Browser;
let server: TestServer;

beforeAll(async () => {
  if (!runBrowserTests) return;
  const webDir = builtWebApp();
  server = await startTestServer({ ...quietServer, GROUPPE_WEB_DIR: webDir });
  browser = await launchChromium();
  mkdirSync(artifacts, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** A browser context as one person on one device, recording the API calls it makes. */
async function person(options: {
  transport: TransportKind;
  viewport?: { width: number; height: number };
  timezoneId?: string;
}): Promise<{ context: BrowserContext; page: Page; calls: ApiCall[]; problems: string[] }> {
  const context = await browser.newContext({
    baseURL: server.baseUrl,
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
function watchForProblems(page: Page): string[] {
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

const password = "correct horse battery";

/** Signs up through the form; returns the email address used. */
async function signUp(page: Page, displayName: string): Promise<string> {
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
async function logOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Menu" }).click();
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByTestId("signed-in-as").waitFor({ state: "detached" });
}

/** Picks a zone in the event form's time zone picker by typing part of its name. */
async function pickTimeZone(page: Page, search: string, zone: string): Promise<void> {
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

async function createEvent(page: Page, title: string, capacity = "10"): Promise<string> {
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

async function waitForText(page: Page, testId: string, text: string): Promise<void> {
  await page
    .getByTestId(testId)
    .filter({ hasText: new RegExp(`^\\s*${text}\\s*$`) })
    .waitFor();
}

/** Marks the page's window so a later check can tell the page was never reloaded. */
async function markWindow(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { grouppeMark?: boolean }).grouppeMark = true;
  });
}

async function stillSameWindow(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { grouppeMark?: boolean }).grouppeMark === true);
}

async function errorNextTo(page: Page, inputId: string): Promise<string> {
  const input = page.locator(`#${inputId}`);
  expect(await input.getAttribute("aria-invalid")).toBe("true");
  expect(await input.getAttribute("aria-describedby")).toContain(`${inputId}-error`);
  return (await page.locator(`#${inputId}-error`).innerText()).trim();
}

function expectTransport(calls: readonly ApiCall[], transport: TransportKind): void {
  expect(calls.length).toBeGreaterThan(0);
  for (const call of calls) expect(call.contentType, call.method).toMatch(contentTypes[transport]);
}

describe.skipIf(!runBrowserTests).each<TransportKind>(["connect", "grpc-web"])(
  "the web app over %s",
  (transport) => {
    it("shows RSVPs live, checks forms in the browser and shows server-side violations", async () => {
      const organizer = await person({ transport });
      const guest = await person({ transport, viewport: phone, timezoneId: "Asia/Tokyo" });
      try {
        await signUp(organizer.page, `Olga ${transport}`);
        await signUp(guest.page, `Gus ${transport}`);

        // The guest watches the upcoming list; the organizer's new event appears there live.
        await guest.page.goto("/");
        await guest.page
          .getByTestId("live-status")
          .and(guest.page.locator("[data-status=live]"))
          .waitFor();
        await markWindow(guest.page);
        const title = `Picnic over ${transport} ${Date.now()}`;
        const eventId = await createEvent(organizer.page, title);
        await guest.page.getByRole("link", { name: title }).waitFor();
        expect(await stillSameWindow(guest.page)).toBe(true);

        // The organizer's page is open on the event; the guest RSVPs from their phone.
        await waitForText(organizer.page, "attendee-count", "0");
        await organizer.page
          .getByTestId("live-status")
          .and(organizer.page.locator("[data-status=live]"))
          .waitFor();
        await markWindow(organizer.page);
        await guest.page.getByRole("link", { name: title }).click();
        await guest.page.getByRole("heading", { level: 1, name: title }).waitFor();
        // By keyboard: the RSVP button is a real button.
        await guest.page.getByRole("button", { name: /RSVP/ }).focus();
        await guest.page.keyboard.press("Enter");
        await waitForText(guest.page, "viewer-rsvp", "✓ You're going");
        await waitForText(organizer.page, "attendee-count", "1");
        expect(await stillSameWindow(organizer.page)).toBe(true);
        await organizer.page.getByTestId("attendee-list").getByText(`Gus ${transport}`).waitFor();

        // Times show in the viewer's zone first and, beside them, in the event's.
        const guestTimes = await guest.page.getByTestId("event-times").innerText();
        expect(guestTimes).toMatch(/GMT\+9 · your time/);
        expect(guestTimes).toMatch(/Event's time:.*Europe\/Berlin/s);

        // Invalid input is caught in the browser: the violations show next to their fields and
        // no request leaves the page.
        await organizer.page.goto("/events/new");
        await organizer.page.locator("#event-title").fill("");
        await organizer.page.locator("#event-starts-at").fill("2031-05-01T18:00");
        await organizer.page.locator("#event-ends-at").fill("2031-05-01T17:00");
        await organizer.page.locator("#event-location-address").fill("Somewhere");
        const callsBefore = organizer.calls.length;
        await organizer.page.getByRole("button", { name: "Publish event" }).click();
        await organizer.page.locator("#event-title-error").waitFor();
        expect(await errorNextTo(organizer.page, "event-title")).toBe("Give your event a title.");
        expect(await errorNextTo(organizer.page, "event-ends-at")).toBe(
          "The event has to end after it starts.",
        );
        expect(await organizer.page.evaluate(() => document.activeElement?.id)).toBe("event-title");
        await organizer.page.waitForTimeout(300);
        expect(organizer.calls.slice(callsBefore)).toEqual([]);

        // A violation only the server can see: seats below the people already going.
        await organizer.page.goto(`/events/${eventId}`);
        await organizer.page.getByRole("button", { name: /RSVP/ }).click();
        await waitForText(organizer.page, "attendee-count", "2");
        await organizer.page.getByRole("link", { name: "Edit details" }).click();
        await organizer.page.locator("#event-capacity").fill("1");
        await organizer.page.getByRole("button", { name: "Save changes" }).click();
        await organizer.page.locator("#event-capacity-error").waitFor();
        expect(await errorNextTo(organizer.page, "event-capacity")).toMatch(/already hold a seat/);
        expect(organizer.calls.at(-1)?.method).toBe("UpdateEvent");

        // "My events" lists it under both relations: organizing, and going.
        await organizer.page.goto("/my-events");
        const organizing = organizer.page.getByRole("region", { name: "Organizing" });
        const going = organizer.page.getByRole("region", { name: "Going or on the waitlist" });
        await organizing.getByRole("link", { name: title }).waitFor();
        await going.getByRole("link", { name: title }).waitFor();
        await organizer.page.goto(`/events/${eventId}/edit`);

        // Someone else's change in between makes the etag stale: say so, offer a reload.
        await organizer.page.locator("#event-capacity").fill("10");
        await organizer.page.locator("#event-title").fill(`${title} (edited)`);
        await guest.page.getByRole("button", { name: "Leave event" }).click();
        await guest.page.getByRole("button", { name: /RSVP/ }).waitFor();
        await organizer.page.getByRole("button", { name: "Save changes" }).click();
        await organizer.page.getByTestId("stale-notice").waitFor();
        expect(await organizer.page.getByTestId("stale-notice").innerText()).toMatch(
          /Someone else changed this event — reload/,
        );
        await organizer.page.getByRole("button", { name: "Reload the event" }).click();
        await organizer.page.getByTestId("stale-notice").waitFor({ state: "detached" });
        await organizer.page.locator("#event-title").fill(`${title} (edited)`);
        await organizer.page.getByRole("button", { name: "Save changes" }).click();
        await organizer.page
          .getByRole("heading", { level: 1, name: `${title} (edited)` })
          .waitFor();

        // The guest sees the edit, then the cancellation, without reloading.
        await markWindow(guest.page);
        await guest.page.getByRole("heading", { level: 1, name: `${title} (edited)` }).waitFor();
        await organizer.page.getByRole("button", { name: "Cancel event" }).click();
        await organizer.page.locator("#cancel-reason").fill("Storm warning for the afternoon.");
        await organizer.page.getByRole("button", { name: "Cancel the event" }).click();
        await guest.page.getByTestId("cancelled-notice").waitFor();
        expect(await guest.page.getByTestId("cancelled-notice").innerText()).toMatch(
          /Storm warning/,
        );
        expect(await stillSameWindow(guest.page)).toBe(true);

        // Deleting ends the guest's stream with a clear message.
        await organizer.page.getByRole("button", { name: "Delete event" }).click();
        await organizer.page.getByRole("button", { name: "Delete for good" }).click();
        await organizer.page.waitForURL((url) => url.pathname === "/");
        await guest.page
          .getByRole("heading", { level: 1, name: "This event was deleted" })
          .waitFor();

        expectTransport(organizer.calls, transport);
        expectTransport(guest.calls, transport);
        expect([...organizer.problems, ...guest.problems]).toEqual([]);
        expect(organizer.calls.map((call) => call.method)).toEqual(
          expect.arrayContaining([
            "SignUp",
            "CreateEvent",
            "WatchEvent",
            "UpdateEvent",
            "CancelEvent",
          ]),
        );
        expect(guest.calls.map((call) => call.method)).toEqual(
          expect.arrayContaining(["WatchEvents", "JoinEvent", "LeaveEvent"]),
        );
      } finally {
        await organizer.context.close();
        await guest.context.close();
      }
    });
  },
);

describe.skipIf(!runBrowserTests)("accounts", () => {
  it("logs out, explains a taken address and a wrong password, and logs back in", async () => {
    const visitor = await person({ transport: "connect", viewport: phone });
    try {
      // The first Tab stop skips the header.
      await visitor.page.keyboard.press("Tab");
      expect(await visitor.page.evaluate(() => document.activeElement?.textContent)).toBe(
        "Skip to content",
      );
      const email = await signUp(visitor.page, "Lou Login");
      await logOut(visitor.page);
      await visitor.page.getByRole("link", { name: "Log in" }).first().waitFor();
      expect(visitor.calls.map((call) => call.method)).toContain("LogOut");

      // Signing up again with the same address: the server's answer shows at the email field.
      await visitor.page.goto("/signup");
      await visitor.page.locator("#display_name").fill("Lou Again");
      await visitor.page.locator("#email").fill(email);
      await visitor.page.locator("#password").fill(password);
      await visitor.page.getByRole("button", { name: "Sign up" }).click();
      await visitor.page.locator("#email-error").waitFor();
      expect(await errorNextTo(visitor.page, "email")).toMatch(/already exists/);

      await visitor.page.goto("/login?next=/my-events");
      await visitor.page.locator("#email").fill(email);
      await visitor.page.locator("#password").fill("not the password");
      await visitor.page.getByRole("button", { name: "Log in" }).click();
      const summary = visitor.page.getByRole("alert").filter({ hasText: "Couldn't log you in" });
      await summary.waitFor();
      expect(await summary.innerText()).toMatch(/email address and password don't match/);
      expect(await visitor.page.evaluate(() => document.activeElement?.getAttribute("role"))).toBe(
        "alert",
      );

      await visitor.page.locator("#password").fill(password);
      await visitor.page.getByRole("button", { name: "Log in" }).click();
      await visitor.page.waitForURL((url) => url.pathname === "/my-events");
      await visitor.page.getByTestId("signed-in-as").waitFor();
      // Focus moves to the new page's heading after navigating.
      expect(await visitor.page.evaluate(() => document.activeElement?.textContent)).toBe(
        "My events",
      );
      expect(visitor.problems).toEqual([]);
    } finally {
      await visitor.context.close();
    }
  });
});

describe.skipIf(!runBrowserTests)("the web app's transport settings", () => {
  it("keeps ?transport= for later pages, switches in the settings menu, and forgets with ?transport=default", async () => {
    const visitor = await person({ transport: "grpc-web" });
    try {
      await visitor.page.goto("/");
      expect(await visitor.page.getByTestId("transport").innerText()).toBe("gRPC-Web (binary)");
      await visitor.page.getByTestId("result-count").filter({ hasNotText: "Loading" }).waitFor();
      await visitor.page.goto("/?transport=default");
      expect(await visitor.page.getByTestId("transport").innerText()).toBe("Connect (JSON)");
      await visitor.page.getByTestId("result-count").filter({ hasNotText: "Loading" }).waitFor();

      // The switch lives in the header's menu (not the footer) and reloads the same page.
      expect(await visitor.page.locator("footer").count()).toBe(0);
      const menu = visitor.page.getByRole("button", { name: "Menu" });
      await menu.focus();
      await visitor.page.keyboard.press("Enter");
      expect(await menu.getAttribute("aria-expanded")).toBe("true");
      await visitor.page.getByRole("group", { name: "Connection to the server" }).waitFor();
      await visitor.page.keyboard.press("Escape");
      expect(await menu.getAttribute("aria-expanded")).toBe("false");
      expect(
        await visitor.page.evaluate(() => document.activeElement?.getAttribute("aria-controls")),
      ).toBe("site-menu-panel");
      await visitor.page.goto("/my-events");
      await menu.click();
      await visitor.page.getByRole("link", { name: "Switch to gRPC-Web (binary)" }).click();
      await visitor.page.waitForURL(
        (url) => url.pathname === "/my-events" && url.searchParams.get("transport") === "grpc-web",
      );
      // The reloaded app has started (and remembered the choice) once its page is drawn.
      await visitor.page.getByRole("heading", { level: 1, name: "My events" }).waitFor();
      expect(await visitor.page.getByTestId("transport").innerText()).toBe("gRPC-Web (binary)");
      await visitor.page.goto("/");
      await visitor.page.getByTestId("result-count").filter({ hasNotText: "Loading" }).waitFor();
      expect(await visitor.page.getByTestId("transport").innerText()).toBe("gRPC-Web (binary)");
      expect(visitor.calls.at(-1)?.contentType).toMatch(contentTypes["grpc-web"]);

      const connectCalls = visitor.calls.filter((call) =>
        contentTypes.connect.test(call.contentType),
      );
      const grpcWebCalls = visitor.calls.filter((call) =>
        contentTypes["grpc-web"].test(call.contentType),
      );
      expect(connectCalls.length).toBeGreaterThan(0);
      expect(grpcWebCalls.length).toBeGreaterThan(0);
      expect(visitor.problems).toEqual([]);
    } finally {
      await visitor.context.close();
    }
  });
});

/** Gzipped bytes of every script a page load fetched. */
async function compressedScriptBytes(page: Page, path: string): Promise<number> {
  const scripts: Promise<number>[] = [];
  page.on("response", (response) => {
    if (response.request().resourceType() !== "script") return;
    scripts.push(response.body().then((body) => gzipSync(body).length));
  });
  await page.goto(path);
  await page.getByTestId("result-count").filter({ hasNotText: "Loading" }).waitFor();
  return (await Promise.all(scripts)).reduce((sum, bytes) => sum + bytes, 0);
}

/** The VEVENTs of an iCalendar text, as a calendar library reads them. */
function parseIcs(text: string): ICAL.Event[] {
  const calendar = new ICAL.Component(ICAL.parse(text));
  return calendar.getAllSubcomponents("vevent").map((vevent) => new ICAL.Event(vevent));
}

/** A full-page screenshot from the top (where the sticky header belongs), without toasts. */
async function shoot(page: Page, name: string, width: string): Promise<void> {
  for (const dismiss of await page.getByRole("button", { name: "Dismiss" }).all()) {
    await dismiss.click();
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(artifacts, `${name}-${width}.png`), fullPage: true });
}

async function toastSays(page: Page, text: RegExp): Promise<void> {
  await page.getByTestId("toasts").getByText(text).waitFor();
}

describe.skipIf(!runBrowserTests)("what people expect of an event site", () => {
  let seeded: Promise<string[]>;
  beforeAll(() => {
    seeded = seedEvents(server.baseUrl);
  });

  it("loads the home page with at most 130 KB of compressed JavaScript", async () => {
    // A fresh context: nothing cached, as on a first visit.
    const context = await browser.newContext({ baseURL: server.baseUrl, viewport: desktop });
    try {
      const bytes = await compressedScriptBytes(await context.newPage(), "/");
      console.info(`first load of / fetched ${(bytes / 1024).toFixed(1)} KB of gzipped JavaScript`);
      expect(bytes).toBeGreaterThan(10_000);
      expect(bytes).toBeLessThanOrEqual(130 * 1024);
    } finally {
      await context.close();
    }
  });

  it.each([
    ["desktop", desktop, "Ari Levi", "AL"],
    ["phone", phone, "Pia Marie Novak", "PN"],
  ] as const)(
    "works at %s width: header, not-found pages, times, zone picker, RSVP, calendar, sharing, cancelling",
    async (width, viewport, name, initials) => {
      const [sunriseRun] = await seeded;
      const visitor = await person({ transport: "connect", viewport });
      const { page, context } = visitor;
      await context.grantPermissions(["clipboard-read", "clipboard-write"], {
        origin: server.baseUrl,
      });
      try {
        // One slim header row; the search placeholder fits its box.
        const header = await page.locator("header.site-header").boundingBox();
        expect(header?.height).toBeLessThanOrEqual(64);
        const placeholderFits = await page
          .locator("#search")
          .evaluate((input: HTMLInputElement) => {
            const style = getComputedStyle(input);
            const context = document.createElement("canvas").getContext("2d");
            if (!context) return false;
            context.font = style.font;
            const room =
              input.clientWidth -
              Number.parseFloat(style.paddingLeft) -
              Number.parseFloat(style.paddingRight);
            return context.measureText(input.placeholder).width <= room;
          });
        expect(placeholderFits).toBe(true);

        // Cards: the viewer's clock (New York) first, the event's own beside it.
        await page.getByTestId("event-list").waitFor();
        const runCard = page.locator("article.event-card", { hasText: "Sunrise run" }).first();
        // Seeded at 05:00 UTC: midnight (or 1 AM in summer) in New York, 6 (or 7) AM in Berlin.
        expect(await runCard.locator(".when").innerText()).toMatch(
          /, (12|1):00 AM\n[67]:00 AM in Berlin$/,
        );
        await shoot(page, "list", width);

        // Unknown pages and events: a styled page with a way home, no form-error wording.
        await page.goto("/no-such-page");
        await page.getByRole("heading", { level: 1, name: "We can't find that page" }).waitFor();
        await shoot(page, "not-found", width);
        await page.getByRole("link", { name: "Go to upcoming events" }).click();
        await page.waitForURL((url) => url.pathname === "/");
        await page.goto("/events/not-a-real-id");
        await page.getByRole("heading", { level: 1, name: "We can't find this event" }).waitFor();
        expect(await page.locator("main").innerText()).not.toMatch(/needs another look/);
        await page.getByRole("link", { name: "Go to upcoming events" }).waitFor();

        // The form: an error under Ends leaves Starts where it was; the link hint allows http.
        await signUp(page, name);
        await page.goto("/events/new");
        await page.locator("#event-starts-at").fill("2031-05-01T18:00");
        await page.locator("#event-ends-at").fill("2031-05-01T17:00");
        await page.getByRole("button", { name: "Publish event" }).click();
        await page.locator("#event-ends-at-error").waitFor();
        const starts = await page.locator("#event-starts-at").boundingBox();
        const ends = await page.locator("#event-ends-at").boundingBox();
        expect(starts?.height).toBe(ends?.height);
        if (width === "desktop") expect(starts?.y).toBe(ends?.y);
        await page.getByText("Online", { exact: true }).click();
        expect(await page.locator("#event-location-online-url-hint").innerText()).toMatch(
          /http:\/\//,
        );
        await page.getByText("At a venue", { exact: true }).click();

        // The zone picker: the browser's zone first, offsets shown, found by typing.
        const picker = page.locator("#event-time-zone");
        expect(await picker.inputValue()).toMatch(/^America\/New York \(UTC\u22120[45]:00\)$/);
        await picker.focus();
        await page.keyboard.press("ArrowDown");
        expect(await page.getByRole("option").first().innerText()).toMatch(
          /^UTC\u22120[45]:00\s+America\/New York\s+your zone$/,
        );
        await shoot(page, "create", width);
        await page.keyboard.press("Escape");
        expect(await picker.getAttribute("aria-expanded")).toBe("false");
        await picker.fill("tokyo");
        await page.getByRole("option", { name: /UTC\+09:00\s+Asia\/Tokyo/ }).waitFor();
        await page.keyboard.press("Enter");
        expect(await picker.inputValue()).toBe("Asia/Tokyo (UTC+09:00)");
        expect(await picker.getAttribute("aria-expanded")).toBe("false");

        // Publishing and RSVPing are confirmed in toasts; focus stays on the RSVP controls.
        const title = `Rooftop tea, ${width} ${Date.now()}`;
        await page.locator("#event-title").fill(title);
        await page.locator("#event-ends-at").fill("2031-05-01T20:00");
        await page.locator("#event-location-address").fill("Shibuya, Tokyo");
        await page.locator("#event-capacity").fill("12");
        await page.getByRole("button", { name: "Publish event" }).click();
        await toastSays(page, /Your event is published/);
        const eventUrl = page.url();
        await page.getByRole("button", { name: /RSVP/ }).focus();
        await page.keyboard.press("Enter");
        await toastSays(page, /You're going/);
        expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe(
          "Leave event",
        );

        // People: first and last initials on a colour of their own; the viewer and host marked.
        const me = page.getByTestId("attendee-list").locator("li", { hasText: name });
        await me.getByText("you", { exact: true }).waitFor();
        await me.getByText("host", { exact: true }).waitFor();
        expect(await me.locator(".avatar").innerText()).toBe(initials);

        // Add to calendar: a real .ics that a calendar library reads.
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.getByRole("link", { name: "Add to calendar" }).click(),
        ]);
        const [calendarEvent] = parseIcs(await readFile(await download.path(), "utf8"));
        expect(calendarEvent?.summary).toBe(title);
        expect(calendarEvent?.location).toBe("Shibuya, Tokyo");
        expect(calendarEvent?.startDate.toJSDate().toISOString()).toBe("2031-05-01T09:00:00.000Z");
        expect(await page.locator("[data-testid=event-times] time").getAttribute("datetime")).toBe(
          "2031-05-01T09:00:00.000Z",
        );

        // No Web Share API in this browser: the button copies the link.
        await page.getByRole("button", { name: "Copy link" }).click();
        await toastSays(page, /Link copied/);
        expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(eventUrl);

        // Where the Web Share API exists, the button hands the link to it.
        const sharer = await context.newPage();
        await sharer.addInitScript(() => {
          const shared: ShareData[] = [];
          Object.assign(window, { shared });
          Object.defineProperty(navigator, "share", {
            value: async (data: ShareData) => {
              shared.push(data);
            },
          });
        });
        await sharer.goto(eventUrl);
        await sharer.getByRole("button", { name: "Share", exact: true }).click();
        await sharer.waitForFunction(
          () => (window as unknown as { shared: ShareData[] }).shared.length === 1,
        );
        expect(
          await sharer.evaluate(
            () => (window as unknown as { shared: ShareData[] }).shared[0]?.url,
          ),
        ).toBe(eventUrl);
        await sharer.close();

        // The personal feed: made on My events, read by a calendar library, and revocable.
        await page.goto("/my-events");
        await page.getByRole("button", { name: "Get my calendar link" }).click();
        await toastSays(page, /calendar link is ready/);
        const feedUrl = await page.locator("#feed-address").inputValue();
        expect(feedUrl).toMatch(new RegExp(`^${server.baseUrl}/calendar/feeds/[\\w-]{43}\\.ics$`));
        const feed = await fetch(feedUrl);
        expect(feed.status).toBe(200);
        expect(parseIcs(await feed.text()).map((event) => event.summary)).toEqual([title]);
        await shoot(page, "my-events", width);
        await page.getByRole("button", { name: "Turn the link off" }).click();
        await toastSays(page, /calendar link is off/);
        expect((await fetch(feedUrl)).status).toBe(404);

        // Cancelled: no seats left, no RSVP, and not "You're going" on My events.
        await page.goto(eventUrl);
        await page.getByRole("button", { name: "Cancel event" }).click();
        await page.locator("#cancel-reason").fill("The roof is closed for repairs.");
        await page.getByRole("button", { name: "Cancel the event" }).click();
        await toastSays(page, /The event is cancelled/);
        await page.getByTestId("rsvp-closed").waitFor();
        expect(await page.getByTestId("seats").count()).toBe(0);
        expect(await page.locator(".rsvp").innerText()).not.toMatch(/seats? left/);
        await page.goto("/my-events");
        const going = page.getByRole("region", { name: "Going or on the waitlist" });
        const card = going.locator("article", { hasText: title });
        await card.locator(".badge", { hasText: "Cancelled" }).waitFor();
        expect(await card.innerText()).not.toMatch(/You're going/);

        // A busy event page, and the menu with account and connection settings.
        await page.goto(`/events/${sunriseRun}`);
        await page.getByTestId("attendee-list").waitFor();
        await shoot(page, "detail", width);
        await page.getByRole("button", { name: "Menu" }).click();
        await page.getByRole("group", { name: "Connection to the server" }).waitFor();
        await shoot(page, "menu", width);
        expect(visitor.problems).toEqual([]);
      } finally {
        await visitor.context.close();
      }
    },
  );
});
