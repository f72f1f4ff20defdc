/**
 * How a person looks without a photo: up to two initials (first and last name) on a colour
 * of their own. The colour comes from their id, so it stays the same wherever they appear and
 * two people with the same initials still look different.
 */
export interface PersonLook {
  initials: string;
  /** A hue in degrees, 0 to 359. */
  hue: number;
}

/** The initials of a display name: "Ada Lovelace" → "AL", "cher" → "C", "" → "?". */
export function initialsOf(displayName: string): string {
  const words = displayName.trim().split(/\s+/).filter(Boolean);
  const first = words[0];
  if (!first) return "?";
  const last = words.length > 1 ? words[words.length - 1] : undefined;
  const letter = (word: string) => Array.from(word)[0]?.toLocaleUpperCase() ?? "";
  return letter(first) + (last ? letter(last) : "");
}

/** A stable hue for an id (FNV-1a over its UTF-16 code units). */
export function hueOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < id.length; index += 1) {
    hash ^= id.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % 360;
}

/** The look of a person with this id and name. */
export function personLook(id: string, displayName: string): PersonLook {
  return { initials: initialsOf(displayName), hue: hueOf(id || displayName) };
}
