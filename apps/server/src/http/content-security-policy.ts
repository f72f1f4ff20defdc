import { createHash } from "node:crypto";

const inlineScript = /<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi;
const inlineStyle = /<style\b[^>]*>([\s\S]*?)<\/style\s*>/gi;
const styleAttribute = /\sstyle\s*=\s*(?:"([^"]*)"|'([^']*)')/gi;
const externalScript = /\ssrc\s*=/i;
/** Script types a browser does not run (data blocks); CSP does not cover them. */
const dataBlock =
  /\stype\s*=\s*["']?(?!module\b|text\/javascript\b|application\/javascript\b)[\w/+.-]+/i;
const entities: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  "#39": "'",
  "#34": '"',
};

function sha256(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

/** An attribute value as the browser hashes it: with character references decoded. */
function decodeAttribute(value: string): string {
  return value.replace(/&(#\d+|#x[\da-f]+|\w+);/gi, (whole, name: string) => {
    if (name.startsWith("#x") || name.startsWith("#X"))
      return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith("#")) return entities[name] ?? String.fromCodePoint(Number(name.slice(1)));
    return entities[name.toLowerCase()] ?? whole;
  });
}

/**
 * The Content-Security-Policy for one HTML page: only same-origin scripts, styles and
 * connections, plus exactly the inline scripts, inline styles and style attributes this page
 * contains, allowed by their SHA-256 hashes (SvelteKit's static output starts the app from an
 * inline script), so no 'unsafe-inline' is needed. Framing is refused.
 */
export function contentSecurityPolicyFor(html: string): string {
  const scripts = new Set<string>();
  for (const [, attributes = "", body = ""] of html.matchAll(inlineScript)) {
    if (externalScript.test(attributes) || dataBlock.test(attributes)) continue;
    scripts.add(sha256(body));
  }
  const styles = new Set<string>();
  for (const [, body = ""] of html.matchAll(inlineStyle)) styles.add(sha256(body));
  const attributes = new Set<string>();
  for (const [, doubleQuoted, singleQuoted] of html.matchAll(styleAttribute)) {
    attributes.add(sha256(decodeAttribute(doubleQuoted ?? singleQuoted ?? "")));
  }
  const styleSources = ["'self'", ...styles];
  if (attributes.size > 0) styleSources.push("'unsafe-hashes'", ...attributes);
  return [
    "default-src 'self'",
    `script-src ${["'self'", ...scripts].join(" ")}`,
    `style-src ${styleSources.join(" ")}`,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}
