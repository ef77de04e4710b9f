import { fileURLToPath } from "node:url";

/**
 * Absolute path of this library's migrations (the `outbox` and `inbox` tables). A service applies them into its own
 * schema next to its own migrations: `migrate({ url, schema, dirs: [eventsMigrationsDir, ownDir] })`.
 * Resolved from this module's location, so it is the same from `src/` and from `dist/`.
 */
export const eventsMigrationsDir: string = fileURLToPath(new URL("../migrations", import.meta.url));
