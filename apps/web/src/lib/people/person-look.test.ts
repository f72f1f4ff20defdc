import { describe, expect, it } from "vitest";
import { hueOf, initialsOf, personLook } from "./person-look.js";

describe("person look", () => {
  it("takes the first letters of the first and last names", () => {
    expect(initialsOf("Ada Lovelace")).toBe("AL");
    expect(initialsOf("  mina  van der okafor ")).toBe("MO");
    expect(initialsOf("cher")).toBe("C");
    expect(initialsOf("Émile Zola")).toBe("ÉZ");
    expect(initialsOf("")).toBe("?");
  });

  it("gives each id its own stable hue", () => {
    expect(hueOf("a")).toBe(hueOf("a"));
    expect(hueOf("user-1")).not.toBe(hueOf("user-2"));
    const hue = personLook("0a9c", "X").hue;
    expect(hue).toBeGreaterThanOrEqual(0);
    expect(hue).toBeLessThan(360);
  });
});
