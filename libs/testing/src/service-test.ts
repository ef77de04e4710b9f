import type { FileFixtures } from "./fixtures.js";
import { test } from "./fixtures.js";
import type { HarnessKit } from "./harness-kit.js";
import { openHarnessKit } from "./harness-kit.js";

/**
 * vitest's `test` with one more file fixture, `key`: a service's harness, made by `setup` from a
 * {@link HarnessKit} over the file's schema, namespace and prefix. Whatever the kit started or created (servers,
 * schemas, pools, `defer`red steps) is torn down after the file's last test, in reverse order, even when a
 * test or `setup` itself failed.
 *
 * @example
 * export const fxTest = (env: Record<string, string> = {}) =>
 *   serviceTest("fx", async (kit) => {
 *     const config = kit.config(parseFxConfig, { FX_RATE_CACHE_TTL_MS: "0", ...env });
 *     await kit.prepare({ migrations: [migrationsDir], streams: ["fx"] });
 *     const app = build(config, { ...kit.deps, authenticator: kit.tokens.authenticator });
 *     const { url } = await kit.start(app);
 *     return { url, client: kit.client(FxService, url, testUser("user-1")) };
 *   });
 */
export function serviceTest<const K extends string, H>(key: K, setup: (kit: HarnessKit) => Promise<H>) {
  // vitest reads which fixtures this one needs from the destructuring in its first parameter.
  const fixture = async ({ pg, nats, redis }: FileFixtures, use: (harness: H) => Promise<void>) => {
    const kit = await openHarnessKit({ pg, nats, redis });
    try {
      await use(await setup(kit));
    } finally {
      await kit.close();
    }
  };
  const fixtures = { [key]: [fixture, { scope: "file" }] } as {
    [P in K]: [typeof fixture, { scope: "file" }];
  };
  return test.extend<{ $file: { [P in K]: H } }>(fixtures);
}
