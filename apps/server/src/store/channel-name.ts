/**
 * Throws unless `channel` is a plain lower-case identifier. LISTEN takes an identifier, not a
 * parameter, so only names that need no quoting are accepted.
 */
export function checkChannelName(channel: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) {
    throw new Error(`invalid channel name ${JSON.stringify(channel)}: use a-z, 0-9 and _`);
  }
}
