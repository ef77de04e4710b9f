import "./type-parsers.js";
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { runner } from "node-pg-migrate";
import { assertSchemaName } from "./schema-name.js";

/** Options for {@link migrate}. */
export interface MigrateOptions {
  /** Postgres connection URL. */
  url: string;
  /** Schema the migrations run in; created if missing. Must match `^[a-z_][a-z0-9_]{0,62}$`. */
  schema: string;
  /**
   * Directories holding `<number>_<name>.sql` files (other files are ignored), resolved from the current working
   * directory. All directories form one ordered history, sorted by the numeric prefix, then by name.
   */
  dirs: string[];
  /** Receives node-pg-migrate's progress lines. Default: discarded (the caller logs the returned names). */
  log?: (msg: string) => void;
}

/** Thrown when migrations cannot be loaded or applied; `cause` holds the underlying error. */
export class MigrationError extends Error {
  override readonly name = "MigrationError";
}

/** Table (inside the migrated schema) recording applied migrations. */
export const MIGRATIONS_TABLE = "pgmigrations";

/**
 * Digits, underscore, then a name. The name ends up inside a quoted SQL literal in node-pg-migrate's bookkeeping,
 * so quotes and other punctuation are refused.
 */
const MIGRATION_FILE = /^\d+_[A-Za-z0-9_-]+\.sql$/;

/** Characters with a meaning in glob patterns; see {@link globFor}. */
const GLOB_MAGIC = /[*?[\]{}()!\\]/;

/**
 * Applies the pending up-migrations of `dirs` to `schema` and returns their names (file names without `.sql`) in
 * the order applied; an empty array when there was nothing to do.
 *
 * Each file uses node-pg-migrate's SQL format: statements after `-- Up Migration`, optionally followed by
 * `-- Down Migration`. Files are unqualified: the session's search_path is set to `schema` only (pg_catalog stays
 * implicitly visible), and the bookkeeping table `<schema>.pgmigrations` lives there too.
 *
 * All pending migrations run in one transaction. Replicas starting at once are safe: each run waits for a
 * session advisory lock derived from the schema name before creating the schema or reading the history, so later
 * runs see the earlier run's work and apply nothing. (The lock is per schema so that services migrating different
 * schemas do not wait for each other; objects shared by the whole database, such as extensions, therefore do not
 * belong in service migrations.) Applying an older-numbered migration after a newer one has run is refused.
 *
 * @throws MigrationError when a directory is unreadable, a file name is malformed or duplicated across
 *   directories, or a migration fails (nothing of that run is committed).
 */
export async function migrate(opts: MigrateOptions): Promise<string[]> {
  assertSchemaName(opts.schema);
  const dirs = opts.dirs.map((dir) => resolve(dir));
  await checkMigrationFiles(dirs);
  // node-pg-migrate reads several directories only through globs; one `<dir>/*.sql` pattern per directory.
  const patterns = dirs.map(globFor);
  try {
    const applied = await runner({
      databaseUrl: { connectionString: opts.url, application_name: `migrate ${opts.schema}` },
      schema: opts.schema,
      createSchema: true,
      migrationsSchema: opts.schema,
      migrationsTable: MIGRATIONS_TABLE,
      dir: patterns,
      useGlob: true,
      direction: "up",
      singleTransaction: true,
      checkOrder: true,
      lockValue: lockKey(opts.schema),
      advisoryLockMode: "wait",
      log: opts.log ?? (() => {}),
    });
    return applied.map((migration) => migration.name);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`migrating schema "${opts.schema}" failed: ${reason}`, { cause: error });
  }
}

/** Rejects what node-pg-migrate would mis-handle: bad names and one name in two directories. */
async function checkMigrationFiles(dirs: string[]): Promise<void> {
  const seen = new Map<string, string>();
  for (const dir of dirs) {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (error) {
      throw new MigrationError(`cannot read migrations directory ${dir}`, { cause: error });
    }
    for (const file of entries) {
      if (file.startsWith(".") || !file.endsWith(".sql")) continue;
      if (!MIGRATION_FILE.test(file)) {
        throw new MigrationError(`migration file ${dir}/${file} must be named <number>_<name>.sql`);
      }
      const name = basename(file, ".sql");
      const other = seen.get(name);
      if (other !== undefined) {
        throw new MigrationError(`migration ${name} exists in both ${other} and ${dir}`);
      }
      seen.set(name, dir);
    }
  }
}

/**
 * Refusing glob syntax in the directory path is simpler and safer than escaping it for the glob library
 * node-pg-migrate bundles.
 */
function globFor(dir: string): string {
  if (GLOB_MAGIC.test(dir)) {
    throw new MigrationError(`migrations directory ${dir} must not contain any of * ? [ ] { } ( ) ! \\`);
  }
  return `${dir}/*.sql`;
}

/** A stable 48-bit advisory-lock key per schema (fits pg's bigint key and a JS safe integer). */
function lockKey(schema: string): number {
  return createHash("sha256").update(`fintech-migrate:${schema}`).digest().readUIntBE(0, 6);
}
