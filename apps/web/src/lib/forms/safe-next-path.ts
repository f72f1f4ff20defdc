/**
 * Where to go after signing in: the `next` query parameter when it is a path on this site,
 * otherwise the home page. Anything else could send people to another site.
 */
export function safeNextPath(next: string | null): string {
  if (!next?.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  return next;
}
