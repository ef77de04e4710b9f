import { Code } from "@connectrpc/connect";
import { describe, expect } from "vitest";
import { createPasswordHasher } from "./passwords.js";
import { expectRefusal, identityTest, PASSWORD } from "./test/harness.js";

const test = identityTest();
const WRONG = "plum-Orchard-78";

describe("brute-force protection", () => {
  test("backoff engages after five failures and the real user gets in after the wait", async ({
    identity,
  }) => {
    const { email } = await identity.signUp("victim");
    for (let i = 0; i < 5; i++) {
      await expectRefusal(
        identity.client.login({ email, password: WRONG }),
        Code.Unauthenticated,
        "UNAUTHENTICATED",
      );
    }
    // Locked for 1 s: even the right password waits, and the refusal says for how long.
    await expectRefusal(
      identity.client.login({ email, password: PASSWORD }),
      Code.ResourceExhausted,
      "RATE_LIMITED",
      {
        retry_after_seconds: "1",
      },
    );
    identity.clock.advance(1_000);
    await expectRefusal(
      identity.client.login({ email, password: WRONG }),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
    // The wait doubles.
    await expectRefusal(
      identity.client.login({ email, password: PASSWORD }),
      Code.ResourceExhausted,
      "RATE_LIMITED",
      {
        retry_after_seconds: "2",
      },
    );
    // An attacker keeps going: the wait grows but never beyond 15 minutes.
    for (let i = 0; i < 15; i++) {
      identity.clock.advance(900_000);
      await expectRefusal(
        identity.client.login({ email, password: WRONG }),
        Code.Unauthenticated,
        "UNAUTHENTICATED",
      );
    }
    const locked = await expectRefusal(
      identity.client.login({ email, password: PASSWORD }),
      Code.ResourceExhausted,
      "RATE_LIMITED",
    );
    expect(locked.rawMessage).toMatch(/retry after 900 s/);
    // After the window the real user logs in, which clears the record.
    identity.clock.advance(900_000);
    const tokens = await identity.client.login({ email, password: PASSWORD });
    expect(tokens.accessToken).not.toBe("");
    for (let i = 0; i < 4; i++) {
      await expectRefusal(
        identity.client.login({ email, password: WRONG }),
        Code.Unauthenticated,
        "UNAUTHENTICATED",
      );
    }
  });

  test("parallel guesses cannot get past the count", async ({ identity }) => {
    const { email } = await identity.signUp("parallel");
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => identity.client.login({ email, password: WRONG })),
    );
    const codes = results.map((r) => (r.status === "rejected" ? (r.reason as { code: Code }).code : "ok"));
    expect(codes.filter((c) => c === Code.Unauthenticated)).toHaveLength(5);
    expect(codes.filter((c) => c === Code.ResourceExhausted)).toHaveLength(15);
  });

  test("unknown emails are throttled the same way", async ({ identity }) => {
    const email = "ghost@example.com";
    for (let i = 0; i < 5; i++) {
      await expectRefusal(
        identity.client.login({ email, password: WRONG }),
        Code.Unauthenticated,
        "UNAUTHENTICATED",
      );
    }
    await expectRefusal(
      identity.client.login({ email, password: WRONG }),
      Code.ResourceExhausted,
      "RATE_LIMITED",
    );
  });

  test("one account's lock does not touch another account", async ({ identity }) => {
    const a = await identity.signUp("locked");
    const b = await identity.signUp("free");
    for (let i = 0; i < 6; i++)
      await identity.client.login({ email: a.email, password: WRONG }).catch(() => undefined);
    await identity.client.login({ email: b.email, password: PASSWORD });
  });

  test("a hash made with older parameters is replaced at the next login", async ({ identity, pg }) => {
    const { email } = await identity.signUp("oldhash");
    const old = await createPasswordHasher({
      params: { memoryCost: 4_096, timeCost: 1, parallelism: 1 },
    }).hash(PASSWORD);
    await pg.pool.query("UPDATE users SET password_hash = $2 WHERE email = $1", [email, old]);
    await identity.client.login({ email, password: PASSWORD });
    const { rows } = await pg.pool.query<{ h: string }>(
      "SELECT password_hash AS h FROM users WHERE email = $1",
      [email],
    );
    expect(rows[0]?.h).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await identity.client.login({ email, password: PASSWORD });
  });
});
