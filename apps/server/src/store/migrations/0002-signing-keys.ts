/**
 * Where the access-token signing key lives on PostgreSQL, so every instance signs and verifies
 * with the same key (PGlite keeps it in the data directory instead).
 */
export const signingKeysSchema: readonly string[] = [
  `CREATE TABLE signing_keys (
    id text PRIMARY KEY,
    private_pem text NOT NULL,
    create_time timestamptz NOT NULL DEFAULT now()
  )`,
];
