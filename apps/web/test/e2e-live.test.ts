/** Two people in two browsers: RSVPs shown live, forms checked in the browser and by the server. */
import { describe, expect, it } from "vitest";
import type { TransportKind } from "../src/lib/api/transport-kind.js";
import {
  createEvent,
  errorNextTo,
  expectTransport,
  markWindow,
  phone,
  runBrowserTests,
  signUp,
  stillSameWindow,
  useBrowserApp,
  waitForText,
} from "./support/browser-app.js";

const app = useBrowserApp();

describe.skipIf(!runBrowserTests).each<TransportKind>(["connect", "grpc-web"])(
  "the web app over %s",
  (transport) => {
    it("shows RSVPs live, checks forms in the browser and shows server-side violations", async () => {
      const organizer = await app.person({ transport });
      const guest = await app.person({ transport, viewport: phone, timezoneId: "Asia/Tokyo" });
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
