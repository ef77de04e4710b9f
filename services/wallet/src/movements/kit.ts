import { formatAmount, parseAmount } from "@fintech/money";
import type { Clock } from "@fintech/platform";
import { localDay } from "@fintech/platform";
import type pg from "pg";
import type { Logger } from "pino";
import type { Book } from "../book.js";
import { invalid, WalletError } from "../errors.js";
import type { PlannedLeg, Side } from "../legs.js";
import type { Leg, Transaction, User, Wallet } from "../model.js";
import { LIMITED_TYPES, SCORED_TYPES } from "../model.js";
import type { Rates } from "../rates.js";
import type { Users } from "../users.js";

// The checks and builders movements share: amounts, the per-transaction limit, providers, ledger sides, and
// the new pending transaction itself.

export interface MovementSettings {
  /** The platform's base currency: limits and base amounts are in it. */
  baseCurrency: string;
  /** Most one transaction may be, in minor units of the base currency. */
  maxTransaction: bigint;
  /** Most a user may spend per local calendar day, in minor units of the base currency. */
  dailyLimit: bigint;
  /** How long a new transaction belongs to its request before recovery may take it over, in ms. */
  leaseMs: number;
}

export interface KitDeps {
  pool: pg.Pool;
  book: Book;
  users: Users;
  rates: Rates;
  clock: Clock;
  logger: Logger;
  settings: MovementSettings;
}

const PROVIDER = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** The fields a new transaction must be given; everything else starts empty (see `draftTransaction`). */
export type DraftFields = Pick<Transaction, "type" | "walletId" | "amount" | "currency" | "baseAmount"> &
  Partial<Transaction>;

/**
 * A new pending transaction `id` of `user`, in stage new with its lease running, everything not given
 * empty. It counts towards the daily limit and is scored when its type is (the receiving side of a transfer
 * is neither), unless `fields` says otherwise.
 */
export function draftTransaction(
  id: string,
  user: User,
  fields: DraftFields,
  now: Date,
  settings: MovementSettings,
): Transaction {
  const limited = LIMITED_TYPES.has(fields.type) && fields.direction !== "incoming";
  return {
    id,
    userId: user.id,
    status: "pending",
    stage: "new",
    leaseUntil: new Date(now.getTime() + settings.leaseMs),
    chargedAmount: fields.amount,
    chargedCurrency: fields.currency,
    rate: "",
    toWalletId: null,
    toAmount: null,
    toCurrency: null,
    spreadAmount: null,
    quoteId: null,
    counterpartyUserId: null,
    relatedTransactionId: null,
    direction: "",
    merchantName: "",
    merchantCategory: "",
    source: "",
    description: "",
    tags: [],
    reason: "",
    originalTransactionId: null,
    refundedAmount: 0n,
    baseCurrency: settings.baseCurrency,
    timezone: user.timezone,
    limitDay: limited ? localDay(now, user.timezone) : null,
    needsScore: SCORED_TYPES.has(fields.type) && fields.direction !== "incoming",
    fraudScore: 0,
    fraudFlags: [],
    fraudDecision: "",
    failureReason: "",
    legs: [],
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
}

export function createKit(deps: KitDeps) {
  const { pool, book, users, rates, clock, logger, settings } = deps;
  const base = settings.baseCurrency;

  return {
    pool,
    book,
    users,
    rates,
    clock,
    logger,
    settings,

    /** `amount` (a decimal string) in minor units of `currency`; VALIDATION_ERROR naming `field` unless above 0. */
    positive(amount: string, currency: string, field = "amount"): bigint {
      const minor = parseAmount(amount, currency);
      if (minor <= 0n) throw invalid(field, "must be greater than zero");
      return minor;
    },

    /** `amount` of `currency` in minor units of the base currency, at the current mid rate. */
    async baseOf(amount: bigint, currency: string): Promise<bigint> {
      return (await rates.convert(amount, currency, base)).amount;
    },

    /** LIMIT_EXCEEDED (kind per_transaction) when `baseAmount` is above the most one transaction may be. */
    checkMax(baseAmount: bigint): void {
      if (baseAmount > settings.maxTransaction) {
        throw new WalletError(
          "LIMIT_EXCEEDED",
          `a transaction may be at most ${formatAmount(settings.maxTransaction, base)} ${base}`,
          {
            kind: "per_transaction",
            limit: formatAmount(settings.maxTransaction, base),
            requested: formatAmount(baseAmount, base),
            currency: base,
          },
        );
      }
    },

    /** A provider name (a top-up's source, a withdrawal's destination), lower-cased; "" stays "". */
    provider(value: string, field: string): string {
      const v = value.trim().toLowerCase();
      if (v !== "" && !PROVIDER.test(v))
        throw invalid(field, "must be a lower-case name such as visa or wire");
      return v;
    },

    /** The ledger legs of `planned`, system accounts resolved to their ids. */
    async legs(planned: PlannedLeg[]): Promise<Leg[]> {
      return book.resolve(planned);
    },

    /** A wallet's side of a movement: `amount` in its own currency. */
    walletSide(w: Wallet, amount: bigint): Side {
      return { account: { wallet: w.id }, amount, currency: w.currency };
    },

    /** The outside world's side: the platform's settlement or merchant clearing account in `currency`. */
    outside(system: "settlement" | "merchant_clearing", amount: bigint, currency: string): Side {
      return { account: { system, currency }, amount, currency };
    },
  };
}

/** What every movement may use. */
export type Kit = ReturnType<typeof createKit>;
