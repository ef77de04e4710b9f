import { authEnv } from "@fintech/auth";
import type { Decimal } from "@fintech/money";
import { findCurrency, parseRate } from "@fintech/money";
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
    const rates: Array<{ base: string; quote: string; rate: Decimal }> = [];
    for (const item of text
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)) {
      const m = /^([A-Z]{3})\/([A-Z]{3})=([0-9.]+)$/.exec(item);
      const [, base = "", quote = "", rate = ""] = m ?? [];
      if (!m || !findCurrency(base) || !findCurrency(quote) || base === quote) {
        ctx.addIssue({
          code: "custom",
          message: `expected BASE/QUOTE=RATE items such as SGD/MYR=3.50, got "${item}"`,
        });
        return z.NEVER;
      }
      try {
        rates.push({ base, quote, rate: parseRate(rate) });
      } catch {
        ctx.addIssue({
          code: "custom",
          message: `"${rate}" is not a positive rate with at most 12 decimals`,
        });
        return z.NEVER;
      }
    }
    return rates;
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
