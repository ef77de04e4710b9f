import { Code } from "@connectrpc/connect";
import { AuditEntrySchema } from "@fintech/proto/fintech/audit/v1/audit_pb.js";
import { RateUpdatedSchema } from "@fintech/proto/fintech/fx/v1/events_pb.js";
import { copyOutboxRows, publishedEvents, putBackOutboxRows, testService } from "@fintech/testing";
import { describe, expect } from "vitest";
import { expectRefusal, fxTest } from "./test/harness.js";

const test = fxTest({ FX_QUOTE_TTL_SECONDS: "30", FX_SPREAD_BPS: "0" });

describe("rate updates", () => {
  test("only an admin sets a rate; every caller must be authenticated", async ({ fx }) => {
    await expectRefusal(
      fx.client.setRate({ base: "SGD", quote: "MYR", rate: "9.99" }),
      Code.PermissionDenied,
      "FORBIDDEN",
    );
    await expectRefusal(
      fx.clientAs().getRate({ base: "SGD", quote: "MYR" }),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
    const service = await fx.clientAs(testService("wallet")).getRate({ base: "SGD", quote: "MYR" });
    expect(service.rate?.rate).toBe("3.5");
  });

  test("an admin update is answered at once, kept in the history and published exactly once", async ({
    fx,
    nats,
    pg,
  }) => {
    const set = await fx.admin.setRate({ base: "MYR", quote: "SGD", rate: "0.2900" });
    expect(set.rate).toMatchObject({
      base: "MYR",
      quote: "SGD",
      rate: "0.29",
      derivation: "direct",
      source: "admin:admin-1",
    });
    // The pair's other direction was replaced, not kept beside it.
    const inverse = await fx.client.getRate({ base: "SGD", quote: "MYR" });
    expect(inverse.rate).toMatchObject({ rate: "3.448275862069", derivation: "inverse" });

    const history = await fx.client.listRateHistory({ base: "SGD", quote: "MYR", limit: 1 });
    expect(history.data.map((r) => `${r.base}/${r.quote}=${r.rate}`)).toEqual(["MYR/SGD=0.29"]);
    expect(history.hasMore).toBe(true);
    const older = await fx.client.listRateHistory({ base: "SGD", quote: "MYR", cursor: history.nextCursor });
    expect(older.data.map((r) => `${r.base}/${r.quote}=${r.rate}`)).toEqual(["SGD/MYR=3.5"]);
    expect(older.hasMore).toBe(false);

    const events = await publishedEvents(
      nats.nc,
      pg.pool,
      fx.namespace,
      "fx.rate.updated",
      RateUpdatedSchema,
    );
    const updated = events.filter((e) => e.base === "MYR" && e.quote === "SGD");
    expect(updated).toHaveLength(1);
    expect(updated[0]).toMatchObject({ rate: "0.29", previousRate: "0.285714285714" });
  });

  test("a rate for a new currency adds it; a bad rate is refused", async ({ fx }) => {
    await fx.admin.setRate({ base: "EUR", quote: "MYR", rate: "5.10" });
    const { data } = await fx.client.listCurrencies({});
    expect(data.map((c) => c.code)).toContain("EUR");
    expect((await fx.client.getRate({ base: "EUR", quote: "USD" })).rate?.rate).toBe("1.085106382979");
    for (const rate of ["0", "-1", "1.0000000000001", "abc", ""]) {
      await expectRefusal(
        fx.admin.setRate({ base: "EUR", quote: "MYR", rate }),
        Code.InvalidArgument,
        "VALIDATION_ERROR",
        {
          field: "rate",
        },
      );
    }
  });

  test("the relay killed between publish and deletion publishes no second event", async ({
    fx,
    pg,
    nats,
  }) => {
    await fx.app.relay.stop();
    try {
      await fx.admin.setRate({ base: "USD", quote: "MYR", rate: "4.75" });
      const rows = await copyOutboxRows(pg.pool, "fx.rate.updated");
      // The update and its audit entry.
      expect(await fx.app.relay.runOnce()).toBe(2);
      // A crash after JetStream acknowledged the publish, before the row's deletion committed, leaves it in place.
      await putBackOutboxRows(pg.pool, rows.slice(-1));
      expect(await fx.app.relay.runOnce()).toBe(1);
      const events = await publishedEvents(
        nats.nc,
        pg.pool,
        fx.namespace,
        "fx.rate.updated",
        RateUpdatedSchema,
      );
      expect(events.filter((e) => e.rate === "4.75")).toHaveLength(1);
    } finally {
      fx.app.relay.start();
    }
  });
});

describe("audit", () => {
  test("an admin's rate change is audited with who, which request, and the rate before and after", async ({
    fx,
    pg,
    nats,
  }) => {
    await fx.admin.setRate(
      { base: "JPY", quote: "MYR", rate: "0.0300" },
      { headers: { "x-request-id": "rate-1" } },
    );
    await fx.admin.setRate(
      { base: "MYR", quote: "JPY", rate: "32" },
      { headers: { "x-request-id": "rate-2" } },
    );
    const entries = (
      await publishedEvents(nats.nc, pg.pool, fx.namespace, "fx.audit.recorded", AuditEntrySchema)
    ).filter((e) => e.subjectId.includes("JPY"));
    // The first rate of a pair has no before; the second replaces it, seen in the direction it is set in.
    expect(entries.map((e) => [e.requestId, e.subjectId, e.before, e.after])).toEqual([
      ["rate-1", "JPY/MYR", undefined, { rate: "0.03", source: "admin:admin-1" }],
      ["rate-2", "MYR/JPY", { rate: "33.333333333333" }, { rate: "32", source: "admin:admin-1" }],
    ]);
    for (const e of entries) {
      expect(e).toMatchObject({ service: "fx", action: "fx.set_rate", subjectType: "rate", clientIp: "" });
      expect(e.actor).toMatchObject({ kind: "user", id: "admin-1", roles: ["user", "admin"] });
    }
  });
});
