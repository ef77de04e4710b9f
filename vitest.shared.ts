import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * The one vitest configuration every package uses (its vitest.config.ts re-exports this): workspace
 * packages resolve to their TypeScript source, tests sit beside the code, and each run leaves a JSON
 * report that tools/scripts/test-summary.mjs adds up after `nx run-many -t test`. Where Docker exists and
 * none of DATABASE_URL, NATS_URL, REDIS_URL is set, the global setup starts throwaway servers.
 */
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: ["src/**/*.test.ts"],
    // Integration tests wait on real servers; on a loaded 2-core machine 5 s is too tight. Speed is
    // measured by tools/bench, never by these limits.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: [fileURLToPath(new URL("libs/testing/src/global-setup.ts", import.meta.url))],
    reporters: ["default", ["json", { outputFile: ".test-report.json" }]],
  },
});
