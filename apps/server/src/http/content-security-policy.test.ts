import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { contentSecurityPolicyFor } from "./content-security-policy.js";

function hash(text: string): string {
  return `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
}

function directive(policy: string, name: string): string[] {
  const found = policy.split("; ").find((part) => part.startsWith(`${name} `));
  return found ? found.split(" ").slice(1) : [];
}

describe("contentSecurityPolicyFor", () => {
  it("allows each inline script by hash and nothing inline otherwise", () => {
    const page = `<script>one()</script><script type="module">two()</script><SCRIPT>three()</SCRIPT>`;
    expect(directive(contentSecurityPolicyFor(page), "script-src")).toEqual([
      "'self'",
      hash("one()"),
      hash("two()"),
      hash("three()"),
    ]);
  });

  it("leaves out external scripts and data blocks, which CSP does not hash", () => {
    const page = `<script src="/app.js"></script><script type="application/json" data-sveltekit-fetched>{"a":1}</script>`;
    expect(directive(contentSecurityPolicyFor(page), "script-src")).toEqual(["'self'"]);
  });

  it("hashes inline styles, and style attributes as the browser decodes them", () => {
    const page = `<style>p{color:red}</style><div style="display: contents"></div><p style='font-family: &quot;A&amp;B&quot;'></p>`;
    expect(directive(contentSecurityPolicyFor(page), "style-src")).toEqual([
      "'self'",
      hash("p{color:red}"),
      "'unsafe-hashes'",
      hash("display: contents"),
      hash('font-family: "A&B"'),
    ]);
  });

  it("needs no 'unsafe-hashes' without style attributes, and never allows unsafe-inline or framing", () => {
    const policy = contentSecurityPolicyFor("<p>plain</p>");
    expect(directive(policy, "style-src")).toEqual(["'self'"]);
    expect(policy).not.toContain("unsafe-inline");
    expect(directive(policy, "frame-ancestors")).toEqual(["'none'"]);
    expect(directive(policy, "default-src")).toEqual(["'self'"]);
  });
});
