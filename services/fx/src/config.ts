import { authEnv } from "@fintech/auth";
import { findCurrency, parseRateList } from "@fintech/money";
import { envInt, parseConfig, serviceEnv, serviceRegistry } from "@fintech/platform";
import { z } from "zod";

const currencyCode = z
  .string()
  .default("MYR")
  .refine((c) => findCurrency(c) !== undefined, "expected an ISO 4217 currency code such as MYR");

// "SGD/MYR=3.50,USD/MYR=4.70": 1 SGD = 3.50 MYR.
const seedRates = z
  .string()
  .default("SGD/MYR=3.50,USD/MYR=4.70")
  .transform((text, ctx) => {
    try {
      return parseRateList(text);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
      return z.NEVER;
    }
  });

export const fxEnv = z.object({
  ...serviceEnv(serviceRegistry.fx),
  FX_PIVOT_CURRENCY: currencyCode,
  FX_SEED_RATES: seedRates,
  FX_QUOTE_TTL_SECONDS: envInt(30, { min: 1, max: 86_400 }),
  FX_SPREAD_BPS: envInt(0, { min: 0, max: 5_000 }),
  FX_RATE_CACHE_TTL_MS: envInt(1_000, { min: 0, max: 600_000 }),
  ...authEnv("fx"),
});

export type FxConfig = z.infer<typeof fxEnv>;

/** Reads and validates the fx service's environment; throws one message naming every bad variable. */
export const parseFxConfig = (env: NodeJS.ProcessEnv = process.env): FxConfig => parseConfig(fxEnv, env);
