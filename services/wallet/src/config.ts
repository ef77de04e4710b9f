import { authEnv } from "@fintech/auth";
import { findCurrency, parseAmount } from "@fintech/money";
import { envInt, parseConfig, serviceEnv, serviceRegistry, serviceUrlsEnv } from "@fintech/platform";
import { z } from "zod";

const baseCurrency = z
  .string()
  .default("MYR")
  .refine((c) => findCurrency(c) !== undefined, "expected an ISO 4217 currency code such as MYR");

// A decimal string in the base currency, e.g. "50000.00"; the refine below reads it in that currency.
const amountText = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((v) => /^\d+(\.\d+)?$/.test(v), 'expected a positive decimal such as "50000.00"');

export const walletEnv = z
  .object({
    ...serviceEnv(serviceRegistry.wallet, { minDbPool: 2 }),
    ...serviceUrlsEnv("ledger", "fx", "fraud"),
    ...authEnv("wallet"),
    /** Deadline of one fraud Score call, in milliseconds; past it FRAUD_UNAVAILABLE_POLICY applies. */
    FRAUD_TIMEOUT_MS: envInt(500, { min: 1, max: 60_000 }),
    /**
     * What happens to a purchase, withdrawal or transfer when fraud does not answer in time: "review" holds the
     * funds and keeps re-scoring until fraud answers; "decline" refuses it. Never approve blindly.
     */
    FRAUD_UNAVAILABLE_POLICY: z.enum(["review", "decline"]).default("review"),
    /** The platform's base currency: limits and base amounts are in it. */
    BASE_CURRENCY: baseCurrency,
    /** Most one transaction may be, in the base currency. */
    WALLET_MAX_TRANSACTION: amountText("50000.00"),
    /** Most a user may spend per calendar day in their own time zone, in the base currency. */
    WALLET_DAILY_LIMIT: amountText("100000.00"),
    /** How long an idempotency key and its answer are kept, in hours (docs/api.md: at least 24). */
    WALLET_IDEMPOTENCY_TTL_HOURS: envInt(24, { min: 24, max: 24 * 30 }),
    /**
     * How long a repeated request waits for the first one with its key before IDEMPOTENCY_KEY_IN_USE, in ms;
     * never past the caller's deadline (less a margin), so below the gateway's BACKEND_TIMEOUT_MS (10000)
     * the repeat is answered 409 rather than timing out at the gateway with 504.
     */
    WALLET_IDEMPOTENCY_WAIT_MS: envInt(8_000, { min: 0, max: 60_000 }),
    /**
     * How long a transaction may stay unfinished before the recovery pass takes it over and drives it again
     * (a crashed request, or a hold waiting for fraud to answer), in milliseconds.
     */
    WALLET_RECOVERY_AFTER_MS: envInt(30_000, { min: 1_000, max: 3_600_000 }),
    /** Milliseconds between recovery passes; 0 turns them off. */
    WALLET_RECOVERY_INTERVAL_MS: envInt(5_000, { min: 0, max: 3_600_000 }),
    /** How long the list of supported currencies is reused, in milliseconds. */
    WALLET_CURRENCY_CACHE_TTL_MS: envInt(60_000, { min: 0, max: 3_600_000 }),
    /**
     * How long a user's status, time zone and default currency are reused in memory, in milliseconds (0: read
     * on every request). Every replica hears identity's events as they are published and looks the user up
     * again; this bounds a change whose event a replica missed (as the credentials' USER_ACCESS_CACHE_MS does).
     */
    WALLET_USER_CACHE_TTL_MS: envInt(5_000, { min: 0, max: 60_000 }),
  })
  .superRefine((c, ctx) => {
    for (const key of ["WALLET_MAX_TRANSACTION", "WALLET_DAILY_LIMIT"] as const) {
      try {
        if (parseAmount(c[key], c.BASE_CURRENCY) <= 0n) throw new Error("not positive");
      } catch {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `expected a positive amount in ${c.BASE_CURRENCY} with at most its minor units`,
        });
      }
    }
  });

export type WalletConfig = z.infer<typeof walletEnv>;

/** Reads and validates the wallet service's environment; throws one message naming every bad variable. */
export const parseWalletConfig = (env: NodeJS.ProcessEnv = process.env): WalletConfig =>
  parseConfig(walletEnv, env);
