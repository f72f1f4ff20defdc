/**
 * The first schema: users, refresh tokens, events, RSVPs and the idempotency keys of
 * CreateEvent and ImportEvents. Counts on `events` always equal its RSVPs; the stores keep
 * them so under the event's row lock.
 */
export const initialSchema: readonly string[] = [
  `CREATE TABLE users (
    id uuid PRIMARY KEY,
    email text NOT NULL,
    display_name text NOT NULL,
    password_hash text NOT NULL,
    create_time timestamptz NOT NULL DEFAULT now()
  )`,
  "CREATE UNIQUE INDEX users_email_key ON users (lower(email))",

  `CREATE TABLE refresh_tokens (
    token_hash text PRIMARY KEY,
    family_id text NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz,
    create_time timestamptz NOT NULL DEFAULT now()
  )`,
  "CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)",
  "CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id)",

  `CREATE TABLE events (
    id uuid PRIMARY KEY,
    organizer_id uuid NOT NULL REFERENCES users (id),
    title text NOT NULL,
    description text NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    time_zone text NOT NULL,
    location_kind text NOT NULL CHECK (location_kind IN ('address', 'online')),
    location_value text NOT NULL,
    capacity integer NOT NULL CHECK (capacity >= 0),
    attendee_count integer NOT NULL DEFAULT 0 CHECK (attendee_count >= 0),
    waitlist_count integer NOT NULL DEFAULT 0 CHECK (waitlist_count >= 0),
    state text NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'cancelled')),
    cancel_reason text NOT NULL DEFAULT '',
    version bigint NOT NULL DEFAULT 1,
    create_time timestamptz NOT NULL,
    update_time timestamptz NOT NULL,
    CONSTRAINT events_ends_after_start CHECK (ends_at > starts_at)
  )`,
  // ListEvents walks (starts_at, id) in order; the others narrow it first.
  "CREATE INDEX events_starts_at_id ON events (starts_at, id)",
  "CREATE INDEX events_ends_at ON events (ends_at)",
  "CREATE INDEX events_organizer ON events (organizer_id, starts_at, id)",

  // join_time has millisecond precision and is unique per event, so (status, join_time,
  // user_id) orders attendees exactly as they joined and survives a round trip through a
  // JavaScript Date in page tokens; seq breaks any tie all the same.
  `CREATE TABLE rsvps (
    event_id uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status text NOT NULL CHECK (status IN ('attending', 'waitlisted')),
    join_time timestamptz NOT NULL,
    seq bigserial NOT NULL,
    PRIMARY KEY (event_id, user_id)
  )`,
  "CREATE INDEX rsvps_event_order ON rsvps (event_id, status, join_time, user_id)",
  "CREATE INDEX rsvps_event_join_time ON rsvps (event_id, join_time)",
  "CREATE INDEX rsvps_user ON rsvps (user_id)",

  // The key is claimed before the event exists, inside one transaction; hence the deferred
  // foreign keys. Deleting the event frees the key.
  `CREATE TABLE create_requests (
    organizer_id uuid NOT NULL,
    request_id text NOT NULL,
    event_id uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    create_time timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organizer_id, request_id)
  )`,
  "CREATE INDEX create_requests_event ON create_requests (event_id)",

  `CREATE TABLE import_keys (
    source text NOT NULL,
    key text NOT NULL,
    event_id uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (source, key)
  )`,
  "CREATE INDEX import_keys_event ON import_keys (event_id)",
];
