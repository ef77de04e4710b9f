import { authEnv } from "@fintech/auth";
import { findCurrency, parseRateList } from "@fintech/money";
import {
  envInt,
  parseConfig,
  redisEnv,
  serviceEnv,
  serviceRegistry,
  serviceUrlsEnv,
} from "@fintech/platform";
import { z } from "zod";

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === "" ? undefined : v));

// "SGD/MYR=3.50,USD/MYR=4.70": fixed rates for imports; unset = ask the fx service.
const importRates = optionalText.transform((text, ctx) => {
  if (text === undefined) return undefined;
  try {
    return parseRateList(text);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
    return z.NEVER;
  }
});

export const analyticsEnv = z.object({
  ...serviceEnv(serviceRegistry.analytics),
  ...redisEnv(),
  BASE_CURRENCY: z
    .string()
    .default("MYR")
    .refine((c) => findCurrency(c) !== undefined, "expected an ISO 4217 currency code such as MYR"),
  ...serviceUrlsEnv("fx"),
  ...authEnv("analytics"),
  ANALYTICS_HOT_DAYS: envInt(7, { min: 1, max: 366 }),
  ANALYTICS_MOVER_INTERVAL_MS: envInt(60_000, { min: 100, max: 86_400_000 }),
  ANALYTICS_HOT_CHECK_INTERVAL_MS: envInt(5000, { min: 100, max: 600_000 }),
  ANALYTICS_CACHE_TTL_SECONDS: envInt(300, { min: 0, max: 86_400 }),
  ANALYTICS_BATCH_SIZE: envInt(1000, { min: 1, max: 10_000 }),
  // Counts may be this late; in return a steady stream of payments is counted a few dozen at a time rather than
  // in one transaction each.
  ANALYTICS_BATCH_LINGER_MS: envInt(50, { min: 0, max: 5000 }),
  // One batch at a time by default: a refund finds its purchase's category in what earlier batches committed,
  // and two batches in flight can commit a refund before the purchase that an earlier batch holds.
  ANALYTICS_CONSUMER_CONCURRENCY: envInt(1, { min: 1, max: 8 }),
  ANALYTICS_IMPORT_MAX_ERRORS: envInt(1000, { min: 1, max: 100_000 }),
  ANALYTICS_IMPORT_RATES: importRates,
});

export type AnalyticsConfig = z.infer<typeof analyticsEnv>;

/** Reads and validates the analytics service's environment; throws one message naming every bad variable. */
export const parseAnalyticsConfig = (env: NodeJS.ProcessEnv = process.env): AnalyticsConfig =>
  parseConfig(analyticsEnv, env);
