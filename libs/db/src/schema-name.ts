/** Lower-case Postgres identifiers that never need quoting and fit in NAMEDATALEN (63 bytes). */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Thrown when a schema name does not match `^[a-z_][a-z0-9_]{0,62}$`. */
export class InvalidSchemaNameError extends Error {
  override readonly name = "InvalidSchemaNameError";
}

/**
 * Throws {@link InvalidSchemaNameError} unless `schema` matches `^[a-z_][a-z0-9_]{0,62}$`.
 * Services can call it while parsing config so a bad schema stops start-up before any connection is made.
 */
export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new InvalidSchemaNameError(
      `invalid schema name ${JSON.stringify(schema)}: expected ^[a-z_][a-z0-9_]{0,62}$`,
    );
  }
}
