import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { migrate } from "@fintech/db";
import { providePg, testEnv } from "@fintech/testing";
import { describe, expect, it } from "vitest";
import { normaliseEmail } from "./email.js";
import { migrationsDir } from "./server.js";
import { expectRefusal, identityTest, PASSWORD } from "./test/harness.js";

const test = identityTest();

describe("normaliseEmail", () => {
  it("folds compatibility forms, case, surrounding space and the domain's trailing dots", () => {
    expect(normaliseEmail(" Ana@Example.COM ")).toBe("ana@example.com");
    expect(normaliseEmail("ana@example.com.")).toBe("ana@example.com");
    expect(normaliseEmail("ana@example.com..")).toBe("ana@example.com");
    // Fullwidth letters and at sign, a ligature, the Kelvin sign, an ideographic space.
    expect(normaliseEmail("ａｎａ＠ｅｘａｍｐｌｅ．ｃｏｍ")).toBe("ana@example.com");
    expect(normaliseEmail("ﬁona@example.com")).toBe("fiona@example.com");
    expect(normaliseEmail("\u212Aim@example.com\u3000")).toBe("kim@example.com");
    // Dots inside the address are part of it.
    expect(normaliseEmail("a.n.a@mail.example.com")).toBe("a.n.a@mail.example.com");
  });
});

describe("look-alike e-mails on identity's port", () => {
  test("are refused as taken at register, and log in to the one account", async ({ identity }) => {
    const { user } = await identity.client.register({
      email: "lookalike@example.com",
      password: PASSWORD,
      fullName: "Original",
    });
    for (const email of [
      "lookalike@example.com.",
      "ｌｏｏｋａｌｉｋｅ@example.com",
      " LOOKALIKE@EXAMPLE.COM. ",
    ]) {
      await expectRefusal(
        identity.client.register({ email, password: PASSWORD, fullName: "Copy" }),
        Code.AlreadyExists,
        "EMAIL_TAKEN",
      );
      const tokens = await identity.client.login({ email, password: PASSWORD });
      const me = await identity.client.getMe(
        {},
        { headers: { authorization: `Bearer ${tokens.accessToken}` } },
      );
      expect(me.user?.id).toBe(user?.id);
    }
  });

  test("a password holding the address is refused whichever spelling of it registers", async ({
    identity,
  }) => {
    await expectRefusal(
      identity.client.register({
        email: "ｐａｓｓｗｏｒｄｙ@example.com",
        password: "passwordy@example.com-77",
        fullName: "Careless",
      }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "password" },
    );
  });

  test("a first registration is stored in normal form", async ({ identity }) => {
    const { user } = await identity.client.register({
      email: "Ｎｅｗ@Example.org.",
      password: PASSWORD,
      fullName: "New",
    });
    expect(user?.email).toBe("new@example.org");
  });
});

describe("migration 1700000000003", () => {
  it("rewrites stored e-mails to normal form unless another account already has it", async () => {
    const { databaseUrl } = testEnv();
    // The schema as the previous release left it: only the first migration.
    const before = mkdtempSync(join(tmpdir(), "identity-migrations-"));
    copyFileSync(
      join(migrationsDir, "1700000000001_identity.sql"),
      join(before, "1700000000001_identity.sql"),
    );
    try {
      await providePg(databaseUrl, async ({ url, schema, pool }) => {
        await migrate({ url, schema, dirs: [before] });
        const insert = (id: string, email: string) =>
          pool.query(
            `INSERT INTO users (id, email, full_name, password_hash, status, timezone, default_currency, roles,
               created_at, updated_at)
             VALUES ($1, $2, 'x', 'x', 'active', 'UTC', 'MYR', ARRAY['user'], now(), now())`,
            [id, email],
          );
        const id = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
        await insert(id(1), "solo@example.com.");
        await insert(id(2), "ｗｉｄｅ@example.com");
        await insert(id(3), "twin@example.com");
        await insert(id(4), "twin@example.com.");
        await insert(id(5), "plain@example.com");

        await migrate({ url, schema, dirs: [migrationsDir] });

        const { rows } = await pool.query<{ id: string; email: string }>(
          "SELECT id, email FROM users ORDER BY id",
        );
        expect(rows).toEqual([
          { id: id(1), email: "solo@example.com" },
          { id: id(2), email: "wide@example.com" },
          { id: id(3), email: "twin@example.com" },
          // A look-alike of an existing account stays as it was: the unique index, and an operator's call.
          { id: id(4), email: "twin@example.com." },
          { id: id(5), email: "plain@example.com" },
        ]);
      });
    } finally {
      rmSync(before, { recursive: true, force: true });
    }
  });
});
