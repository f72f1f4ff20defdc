/**
 * Rate-limit counters shared by every instance on PostgreSQL (rate-limiter-flexible's
 * RateLimiterPostgres, with a text key so that long service principals fit). PGlite runs one
 * process and counts in memory, but the table costs nothing there and keeps both schemas alike.
 */
export const rateLimitsSchema: readonly string[] = [
  `CREATE TABLE grouppe_rate_limits (
    key text PRIMARY KEY,
    points integer NOT NULL DEFAULT 0,
    expire bigint
  )`,
];
