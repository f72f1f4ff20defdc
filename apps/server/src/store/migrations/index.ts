import { initialSchema } from "./0001-initial.js";
import { signingKeysSchema } from "./0002-signing-keys.js";
import { rateLimitsSchema } from "./0003-rate-limits.js";
import { serverSecretsSchema } from "./0004-server-secrets.js";
import { signingKeyRingSchema } from "./0005-signing-key-ring.js";
import { calendarFeedsSchema } from "./0006-calendar-feeds.js";

/** One schema change: statements run in order, in one transaction, recorded under `version`. */
export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

/** Every migration, in the order they apply. Append only: never edit one that shipped. */
export const migrations: readonly Migration[] = [
  { version: 1, name: "initial", statements: initialSchema },
  { version: 2, name: "signing-keys", statements: signingKeysSchema },
  { version: 3, name: "rate-limits", statements: rateLimitsSchema },
  { version: 4, name: "server-secrets", statements: serverSecretsSchema },
  { version: 5, name: "signing-key-ring", statements: signingKeyRingSchema },
  { version: 6, name: "calendar-feeds", statements: calendarFeedsSchema },
];
