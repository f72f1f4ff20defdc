/**
 * Private calendar feeds: at most one working feed address per user, stored only as the
 * SHA-256 of its token. Replacing the row is what makes an old address stop working.
 */
export const calendarFeedsSchema: readonly string[] = [
  `CREATE TABLE calendar_feeds (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_hash text NOT NULL UNIQUE,
    create_time timestamptz NOT NULL DEFAULT now()
  )`,
];
