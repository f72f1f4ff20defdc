/**
 * Signing keys become a ring: each row is a key whose id is the `kid` of the tokens it signs,
 * and which signs from `activate_time` until a newer key's. The key of migration 0002 (id
 * 'access-token') has signed since it was made.
 */
export const signingKeyRingSchema: readonly string[] = [
  "ALTER TABLE signing_keys ADD COLUMN activate_time timestamptz",
  "UPDATE signing_keys SET activate_time = create_time",
  "ALTER TABLE signing_keys ALTER COLUMN activate_time SET NOT NULL",
  "ALTER TABLE signing_keys ALTER COLUMN activate_time SET DEFAULT now()",
];
