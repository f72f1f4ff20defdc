export { createStores } from "./create-stores.js";
export type { Db, Queryable, Unlisten } from "./db.js";
export { migrate } from "./migrate.js";
export { type OpenDbOptions, openDb } from "./open-db.js";
export { type OpenPgliteDbOptions, openPgliteDb } from "./pglite-db.js";
export { ensurePgliteTemplate, loadPgliteTemplate } from "./pglite-template.js";
export { openPostgresDb, type PostgresDbOptions } from "./postgres-db.js";
export * from "./records.js";
export type { EventStore, SessionStore, Stores, UserStore } from "./stores.js";
