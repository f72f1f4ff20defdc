import { describe, expect, it } from "vitest";
import { createPasswordHasher, verifyPassword } from "./passwords.js";

describe("passwords", () => {
  const hasher = createPasswordHasher();

  it("verifies the right password and refuses a wrong one, at N=2^15 by default", async () => {
    const stored = await hasher.hash("correct horse battery");
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(stored).not.toContain("correct horse battery");
    expect(await hasher.verify("correct horse battery", stored)).toBe(true);
    expect(await hasher.verify("correct horse battery!", stored)).toBe(false);
  });

  it("salts every hash", async () => {
    expect(await hasher.hash("same password")).not.toBe(await hasher.hash("same password"));
  });

  it("never matches a malformed stored hash", async () => {
    expect(await verifyPassword("x", "plain-text")).toBe(false);
  });

  it("refuses an unknown account after checking a decoy", async () => {
    expect(await hasher.verify("anything", undefined)).toBe(false);
  });

  it("hashes new passwords at the configured cost and still verifies hashes of another", async () => {
    const cheap = createPasswordHasher(10);
    const older = await hasher.hash("kept across a change of cost");
    const newer = await cheap.hash("kept across a change of cost");
    expect(newer).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await cheap.verify("kept across a change of cost", older)).toBe(true);
    expect(await hasher.verify("kept across a change of cost", newer)).toBe(true);
  });
});
