import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { Principal } from "@fintech/auth";
import { createTestAuth, testUser } from "@fintech/auth/testing";
import { migrate } from "@fintech/db";
import { ensureStream, eventsMigrationsDir } from "@fintech/events";
import { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { test as base, TestClock } from "@fintech/testing";
import pino from "pino";
import { parseFxConfig } from "../config.js";
import { build, migrationsDir } from "../server.js";

type FxClient = ReturnType<typeof createClient<typeof FxService>>;

export interface FxHarness {
  url: string;
  port: number;
  /** Calls as an ordinary user. */
  client: FxClient;
  /** Calls as an admin. */
  admin: FxClient;
  /** A client calling as the principal given, or anonymously. */
  clientAs(principal?: Principal): FxClient;
  clock: TestClock;
  /** An access token for the principal (for raw clients). */
  token(principal: Principal): Promise<string>;
  app: ReturnType<typeof build>;
  namespace: string;
}

/**
 * The fx service on a real port, over this file's Postgres schema and NATS namespace, seeded with the
 * default rates. Extra env (e.g. FX_SPREAD_BPS) comes from `fxEnv` in the file.
 */
export function fxTest(env: Record<string, string> = {}) {
  return base.extend<{ $file: { fx: FxHarness } }>({
    fx: [
      async ({ pg, nats }, use) => {
        const config = {
          ...parseFxConfig({
            DB_SCHEMA: pg.schema,
            EVENTS_NAMESPACE: nats.namespace,
            FX_RATE_CACHE_TTL_MS: "0",
            ...env,
          }),
          METRICS_PORT: 0,
        };
        await migrate({ url: pg.url, schema: pg.schema, dirs: [eventsMigrationsDir, migrationsDir] });
        await ensureStream(nats.nc, { context: "fx", namespace: nats.namespace });
        const clock = new TestClock();
        const auth = await createTestAuth();
        const app = build(config, {
          pool: pg.pool,
          nc: nats.nc,
          logger: pino({ level: "silent" }),
          clock,
          authenticator: auth.authenticator,
        });
        await app.service.seed(config.FX_SEED_RATES);
        const { url, port } = await app.start({ port: 0, host: "127.0.0.1" });
        const clientAs = (principal?: Principal) =>
          createClient(
            FxService,
            createGrpcTransport({ baseUrl: url, interceptors: principal ? [auth.as(principal)] : [] }),
          );
        const client = clientAs(testUser("user-1"));
        const admin = clientAs(testUser("admin-1", ["user", "admin"]));
        try {
          await use({
            url,
            port,
            client,
            admin,
            clientAs,
            token: auth.token,
            clock,
            app,
            namespace: nats.namespace,
          });
        } finally {
          await app.stop();
        }
      },
      { scope: "file" },
    ],
  });
}

export { expectRefusal, TestClock } from "@fintech/testing";
