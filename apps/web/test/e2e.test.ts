import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startTestServer, type TestServer } from "@grouppe/server/testing";
import { chromiumAvailable, launchChromium } from "@grouppe/testkit";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TransportKind } from "../src/lib/api/transport-kind.js";
import { type ApiCall, contentTypes, recordApiCalls } from "./support/api-traffic.js";
import { quietServer } from "./support/quiet-server.js";
import { seedEvents } from "./support/seed-events.js";
import { builtWebApp, webRoot } from "./support/web-build.js";

const artifacts = join(webRoot, "test-artifacts");
const phone = { width: 375, height: 812 };
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
  await page.getByTestId("transport").waitFor();
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
  await page.getByRole("button", { name: "Log out" }).waitFor();
  await page.waitForURL((url) => url.pathname === "/");
  return email;
}

async function createEvent(page: Page, title: string, capacity = "10"): Promise<string> {
  await page.goto("/events/new");
  await page.locator("#event-title").fill(title);
  await page.locator("#event-description").fill("Bring snacks.\n\nWe meet at the entrance.");
  await page.locator("#event-time-zone").selectOption("Europe/Berlin");
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

        // Times show in the event's zone and, for a viewer elsewhere, in theirs.
        const guestTimes = await guest.page.locator(".times").innerText();
        expect(guestTimes).toMatch(/Europe\/Berlin/);
        expect(guestTimes).toMatch(/Your time:.*GMT\+9/s);

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
      await visitor.page.getByRole("button", { name: "Log out" }).click();
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
      await visitor.page.getByRole("button", { name: "Log out" }).waitFor();
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
  it("keeps ?transport= for later pages and switches back with ?transport=default", async () => {
    const visitor = await person({ transport: "grpc-web" });
    try {
      await visitor.page.goto("/");
      expect(await visitor.page.getByTestId("transport").innerText()).toBe("gRPC-Web (binary)");
      await visitor.page.getByTestId("result-count").filter({ hasNotText: "Loading" }).waitFor();
      await visitor.page.goto("/?transport=default");
      expect(await visitor.page.getByTestId("transport").innerText()).toBe("Connect (JSON)");
      await visitor.page.getByTestId("result-count").filter({ hasNotText: "Loading" }).waitFor();
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

describe.skipIf(!runBrowserTests)("screenshots", () => {
  it("captures the list, detail and create pages at phone and desktop widths", async () => {
    const eventIds = await seedEvents(server.baseUrl);
    for (const [name, viewport] of [
      ["phone", phone],
      ["desktop", desktop],
    ] as const) {
      const visitor = await person({
        transport: "connect",
        viewport,
        timezoneId: "America/New_York",
      });
      try {
        await signUp(visitor.page, "Screenshot Sam");
        await visitor.page.goto("/");
        await visitor.page.getByTestId("event-list").waitFor();
        await visitor.page.screenshot({
          path: join(artifacts, `list-${name}.png`),
          fullPage: true,
        });
        await visitor.page.goto(`/events/${eventIds[0]}`);
        await visitor.page.getByTestId("attendee-list").waitFor();
        await visitor.page.screenshot({
          path: join(artifacts, `detail-${name}.png`),
          fullPage: true,
        });
        await visitor.page.goto("/events/new");
        await visitor.page.getByRole("button", { name: "Publish event" }).click();
        await visitor.page.locator("#event-title-error").waitFor();
        await visitor.page.screenshot({
          path: join(artifacts, `create-${name}.png`),
          fullPage: true,
        });
        expect(visitor.problems).toEqual([]);
      } finally {
        await visitor.context.close();
      }
    }
  });
});
