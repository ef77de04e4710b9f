import { Code, ConnectError } from "@connectrpc/connect";
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { describe, expect } from "vitest";
import { test } from "./fixtures.js";
import { openHarnessKit } from "./harness-kit.js";
import { probeApp } from "./test/probe-app.js";
import { testAdmin, testService } from "./tokens.js";

describe("the harness kit", () => {
  test("serves an app on a free port to clients calling as anyone, and refuses a caller without a token", async ({
    pg,
    nats,
    redis,
  }) => {
    const kit = await openHarnessKit({ pg, nats, redis });
    try {
      const { url, port } = await kit.start(
        probeApp({ ...kit.deps, authenticator: kit.tokens.authenticator }),
      );
      expect(url).toBe(`http://127.0.0.1:${port}`);
      expect((await kit.client(PingService, url, testAdmin("root")).ping({})).payload).toBe("root");
      expect((await kit.client(PingService, url, testService("wallet")).ping({})).payload).toBe("wallet");
      const anonymous = await kit
        .client(PingService, url)
        .ping({})
        .catch((e: unknown) => e);
      expect(ConnectError.from(anonymous).code).toBe(Code.Unauthenticated);
    } finally {
      await kit.close();
    }
  });

  test("gives a service the file's places in its config, with the metrics server on any port", async ({
    pg,
    nats,
    redis,
  }) => {
    const kit = await openHarnessKit({ pg, nats, redis });
    try {
      const config = kit.config((env) => ({ ...env, METRICS_PORT: 9155 }), {
        EXTRA: "1",
        DB_SCHEMA: "other",
      });
      expect(config).toMatchObject({
        DB_SCHEMA: "other",
        EVENTS_NAMESPACE: nats.namespace,
        REDIS_PREFIX: redis.prefix,
        DATABASE_URL: pg.url,
        NATS_URL: nats.url,
        REDIS_URL: redis.url,
        EXTRA: "1",
        METRICS_PORT: 0,
      });
    } finally {
      await kit.close();
    }
  });

  test("prepares a schema beside the file's, and tears everything down in reverse order", async ({
    pg,
    nats,
    redis,
  }) => {
    const kit = await openHarnessKit({ pg, nats, redis });
    const order: string[] = [];
    kit.defer(() => order.push("added first"));
    const { schema, pool } = await kit.schema("probe");
    expect(schema).toBe(`${pg.schema}_probe`);
    await kit.prepare({ migrations: [], streams: ["probe"], schema });
    // libs/events' outbox is there, and the pool is bound to that schema.
    expect((await pool.query("SELECT count(*)::int AS n FROM outbox")).rows).toEqual([{ n: 0 }]);
    const jsm = await jetstreamManager(nats.nc);
    expect((await jsm.streams.info(`${nats.namespace.toUpperCase()}_PROBE`)).config.subjects).toEqual([
      `${nats.namespace}.probe.>`,
    ]);
    const { url } = await kit.start(probeApp({ ...kit.deps, authenticator: kit.tokens.authenticator }));
    const client = kit.client(PingService, url, testService("wallet"));
    await client.ping({});
    kit.defer(() => order.push("added last"));
    kit.defer(() => {
      throw new Error("a failing step");
    });

    await expect(kit.close()).rejects.toThrow("a failing step");
    expect(order).toEqual(["added last", "added first"]);
    const stopped = await client.ping({}, { timeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(ConnectError.from(stopped).code).toBe(Code.Unavailable);
    const { rows } = await pg.pool.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [
      schema,
    ]);
    expect(rows).toEqual([]);
    await kit.close();
  });
});
