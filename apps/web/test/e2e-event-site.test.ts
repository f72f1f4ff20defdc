/** What people expect of an event site, at desktop and phone width, with screenshots. */

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { testContextOptions } from "@grouppe/testkit";
import ICAL from "ical.js";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  artifacts,
  desktop,
  phone,
  runBrowserTests,
  signUp,
  useBrowserApp,
} from "./support/browser-app.js";
import { seedEvents } from "./support/seed-events.js";

const app = useBrowserApp();

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
    seeded = seedEvents(app.server.baseUrl);
  });

  it("loads the home page with at most 130 KB of compressed JavaScript", async () => {
    // A fresh context: nothing cached, as on a first visit.
    const context = await app.browser.newContext({
      ...testContextOptions,
      baseURL: app.server.baseUrl,
      viewport: desktop,
    });
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
      const visitor = await app.person({ transport: "connect", viewport });
      const { page, context } = visitor;
      await context.grantPermissions(["clipboard-read", "clipboard-write"], {
        origin: app.server.baseUrl,
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
        expect(feedUrl).toMatch(
          new RegExp(`^${app.server.baseUrl}/calendar/feeds/[\\w-]{43}\\.ics$`),
        );
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
