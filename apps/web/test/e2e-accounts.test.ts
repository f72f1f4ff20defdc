/** Signing up, out and in, and the transport settings the web app remembers. */
import { describe, expect, it } from "vitest";
import { contentTypes } from "./support/api-traffic.js";
import {
  errorNextTo,
  logOut,
  password,
  phone,
  runBrowserTests,
  signUp,
  useBrowserApp,
} from "./support/browser-app.js";

const app = useBrowserApp();

describe.skipIf(!runBrowserTests)("accounts", () => {
  it("logs out, explains a taken address and a wrong password, and logs back in", async () => {
    const visitor = await app.person({ transport: "connect", viewport: phone });
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
    const visitor = await app.person({ transport: "grpc-web" });
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
