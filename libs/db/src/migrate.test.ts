import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { MIGRATIONS_TABLE, migrate } from "./migrate.js";
import { adminQuery, databaseUrl, dropSchemas, scratchSchemaName } from "./test/scratch.js";

const fixtures = join(import.meta.dirname, "test", "migrations");
const dirs = [join(fixtures, "core"), join(fixtures, "extra")];
const schemas: string[] = [];
const tempDirs: string[] = [];

function newSchema(): string {
  const schema = scratchSchemaName();
  schemas.push(schema);
  return schema;
}

async function tempMigrations(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "migrate-test-"));
  tempDirs.push(dir);
  await mkdir(dir, { recursive: true });
  for (const [name, sql] of Object.entries(files)) await writeFile(join(dir, name), sql);
  return dir;
}

afterAll(async () => {
  try {
    await dropSchemas(schemas);
  } finally {
    await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
});

describe("migrate", () => {
  test("three replicas migrating a new schema at once apply each migration exactly once, in order", async () => {
    const schema = newSchema();
    const runs = await Promise.all([1, 2, 3].map(() => migrate({ url: databaseUrl, schema, dirs })));

    expect(runs.flat().sort()).toEqual(["001_create_items", "002_seed_items", "003_add_note"]);
    // One replica did all the work; the others waited for the lock and found nothing pending.
    expect(runs.map((r) => r.length).sort()).toEqual([0, 0, 3]);
    const history = await adminQuery(`SELECT name FROM ${schema}.${MIGRATIONS_TABLE} ORDER BY id`);
    expect(history.rows.map((r) => r.name)).toEqual(["001_create_items", "002_seed_items", "003_add_note"]);
    const items = await adminQuery(`SELECT id, name, note FROM ${schema}.items`);
    expect(items.rows).toEqual([{ id: 1n, name: "seed", note: "added by 003" }]);
    const leaked = await adminQuery(
      "SELECT table_schema FROM information_schema.tables WHERE table_name IN ('items', $1) AND table_schema = 'public'",
      [MIGRATIONS_TABLE],
    );
    expect(leaked.rows).toEqual([]);

    expect(await migrate({ url: databaseUrl, schema, dirs })).toEqual([]);
  });

  test("reports progress through log when given one", async () => {
    const lines: string[] = [];
    await migrate({ url: databaseUrl, schema: newSchema(), dirs, log: (line) => lines.push(line) });
    expect(lines.join("\n")).toContain("001_create_items");
  });

  test("a failing migration commits nothing of its run and surfaces the database error as cause", async () => {
    const schema = newSchema();
    const dir = await tempMigrations({
      "1_ok.sql": "-- Up Migration\nCREATE TABLE kept_only_if_all_succeed (id int4);\n",
      "2_broken.sql": "-- Up Migration\nSELECT * FROM no_such_table;\n",
    });
    const error = await migrate({ url: databaseUrl, schema, dirs: [dir] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "MigrationError" });
    expect(String((error as Error).message)).toContain("no_such_table");
    expect((error as Error).cause).toBeInstanceOf(Error);
    const tables = await adminQuery(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
      [schema],
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual([MIGRATIONS_TABLE]);
  });

  test("refuses malformed file names, one name in two directories, missing directories and bad schemas", async () => {
    const badName = await tempMigrations({ "create_items.sql": "-- Up Migration\nSELECT 1;\n" });
    const duplicate = await tempMigrations({ "001_create_items.sql": "-- Up Migration\nSELECT 1;\n" });
    const schema = newSchema();
    for (const opts of [
      { schema, dirs: [badName] },
      { schema, dirs: [...dirs, duplicate] },
      { schema, dirs: [join(fixtures, "does-not-exist")] },
    ]) {
      await expect(migrate({ url: databaseUrl, ...opts })).rejects.toMatchObject({ name: "MigrationError" });
    }
    await expect(migrate({ url: databaseUrl, schema: "Bad-Schema", dirs })).rejects.toMatchObject({
      name: "InvalidSchemaNameError",
    });
    const created = await adminQuery("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [
      schema,
    ]);
    expect(created.rows).toEqual([]);
  });
});
