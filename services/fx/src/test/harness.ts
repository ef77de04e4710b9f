import type { createClient } from "@connectrpc/connect";
import type { Principal } from "@fintech/auth";
import { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import type { TestClock } from "@fintech/testing";
import { serviceTest, testAdmin, testUser } from "@fintech/testing";
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
  return serviceTest("fx", async (kit): Promise<FxHarness> => {
    const config = kit.config(parseFxConfig, { FX_RATE_CACHE_TTL_MS: "0", ...env });
    await kit.prepare({ migrations: [migrationsDir], streams: ["fx"] });
    const app = build(config, { ...kit.deps, authenticator: kit.tokens.authenticator });
    await app.service.seed(config.FX_SEED_RATES);
    const { url, port } = await kit.start(app);
    const clientAs = (principal?: Principal) => kit.client(FxService, url, principal);
    return {
      url,
      port,
      client: clientAs(testUser("user-1")),
      admin: clientAs(testAdmin("admin-1")),
      clientAs,
      token: (principal) => kit.tokens.token(principal),
      clock: kit.clock,
      app,
      namespace: kit.nats.namespace,
    };
  });
}

export { expectRefusal, TestClock } from "@fintech/testing";
