/**
 * Random secrets every instance must share, such as the key that authenticates page tokens:
 * a token one instance issued must hold on all of them. Made once by whichever instance starts
 * first (INSERT … ON CONFLICT DO NOTHING), read by the rest.
 */
export const serverSecretsSchema: readonly string[] = [
  `CREATE TABLE server_secrets (
    name text PRIMARY KEY,
    secret bytea NOT NULL CHECK (octet_length(secret) >= 32),
    create_time timestamptz NOT NULL DEFAULT now()
  )`,
];
