import type { UserPrincipal } from "@fintech/auth";
import { withTransaction } from "@fintech/db";
import { formatAmount, parseAmount } from "@fintech/money";
import type pg from "pg";
import type { Logger } from "pino";
import { activeUser, requireOpen, transactionOf, walletOf } from "./access.js";
import type { Book } from "./book.js";
import { invalid, WalletError } from "./errors.js";
import { publishTransactions, transactionOutboxRows } from "./events.js";
import type { KeyBinding } from "./idempotency.js";
import { newId } from "./ids.js";
import type { PlannedLeg, Side } from "./legs.js";
import { move, refundShare } from "./legs.js";
import { localDay } from "./local-time.js";
import type { Transaction, TransactionType, User, Wallet } from "./model.js";
import { LIMITED_TYPES, SCORED_TYPES } from "./model.js";
import type { Driven, Processor } from "./processor.js";
import type { Rates } from "./rates.js";
import { store } from "./store.js";
import type { Users } from "./users.js";

// Every user-facing money movement: checks (active user, own wallet, supported currency, amount, limits),
// the ledger legs it needs, the transaction row(s) and their wallet.transaction.created events in one
// database transaction (with the daily-limit reservation), then the processor drives it to its end.

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

export interface MovementDeps {
  pool: pg.Pool;
  book: Book;
  users: Users;
  rates: Rates;
  processor: Processor;
  clock: { now(): Date };
  logger: Logger;
  settings: MovementSettings;
}

/** What a purchase, top-up or withdrawal through CreateTransaction asks for. */
export interface PaymentInput {
  type: "purchase" | "top_up" | "withdrawal";
  amount: string;
  currency: string;
  merchantName: string;
  merchantCategory: string;
  walletId?: string;
  description: string;
  source: string;
}

const MERCHANT_CATEGORY = /^[a-z][a-z0-9_]{0,63}$/;
const PROVIDER = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

export function createMovements(deps: MovementDeps) {
  const { pool, book, users, rates, processor, clock, logger, settings } = deps;
  const base = settings.baseCurrency;

  function positive(amount: string, currency: string, field = "amount"): bigint {
    const minor = parseAmount(amount, currency);
    if (minor <= 0n) throw invalid(field, "must be greater than zero");
    return minor;
  }

  async function baseOf(amount: bigint, currency: string): Promise<bigint> {
    return (await rates.convert(amount, currency, base)).amount;
  }

  function checkMax(baseAmount: bigint): void {
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
  }

  /**
   * A new pending transaction of `user` with everything not given left empty. Its id is the one its
   * Idempotency-Key is bound to, when the request has one (so a retry can never record it twice), else new.
   */
  function draft(
    user: User,
    fields: Pick<Transaction, "type" | "walletId" | "amount" | "currency" | "baseAmount"> &
      Partial<Transaction>,
    binding?: KeyBinding,
  ): Transaction {
    const now = clock.now();
    const limited = LIMITED_TYPES.has(fields.type) && fields.direction !== "incoming";
    return {
      id: binding?.transactionId ?? newId(now.getTime()),
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
      baseCurrency: base,
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

  /**
   * Writes the rows, their created events and (when a row counts towards the daily limit) its spending, in
   * one statement: LIMIT_EXCEEDED leaves nothing behind.
   */
  async function record(rows: Transaction[]): Promise<void> {
    const limited = rows.find((r) => r.limitDay !== null);
    const events = transactionOutboxRows("created", rows, rows[0]?.createdAt ?? clock.now());
    const spend =
      limited?.limitDay == null
        ? undefined
        : {
            userId: limited.userId,
            day: limited.limitDay,
            amount: limited.baseAmount,
            limit: settings.dailyLimit,
          };
    const recorded = await store.record(pool, rows, events, spend);
    if (!recorded.ok && spend !== undefined) {
      throw new WalletError(
        "LIMIT_EXCEEDED",
        `the daily limit of ${formatAmount(settings.dailyLimit, base)} ${base} would be exceeded`,
        {
          kind: "daily",
          limit: formatAmount(settings.dailyLimit, base),
          used: formatAmount(recorded.used, base),
          requested: formatAmount(spend.amount, base),
          currency: base,
          day: spend.day,
        },
      );
    }
  }

  /**
   * Drives a recorded transaction and answers for it: the transaction (completed, or pending when held or
   * left to the recovery pass), or the refusal that failed it.
   */
  async function finish(t: Transaction): Promise<Transaction> {
    let result: Driven;
    try {
      result = await processor.drive(t);
    } catch (err) {
      logger.warn({ err, transaction_id: t.id }, "transaction left pending for the recovery pass");
      return (await store.getTransaction(pool, t.id)) ?? t;
    }
    return answer(result);
  }

  /** The answer for a transaction as driving left it: itself, or the refusal that failed it. */
  function answer({ transaction: done, refusal }: Driven): Transaction {
    if (done.status !== "failed") return done;
    if (done.failureReason === "INSUFFICIENT_BALANCE") {
      throw new WalletError("INSUFFICIENT_BALANCE", "the wallet's available balance is too low", {
        transaction_id: done.id,
        wallet_id: refusal?.details.account_id ?? done.walletId,
        available: refusal?.details.available ?? "",
        requested: refusal?.details.requested ?? formatAmount(done.chargedAmount, done.chargedCurrency),
        currency: done.chargedCurrency,
      });
    }
    if (done.failureReason === "TRANSACTION_DECLINED" || done.failureReason === "FRAUD_UNAVAILABLE") {
      throw new WalletError("TRANSACTION_DECLINED", "the transaction was declined", {
        transaction_id: done.id,
        fraud_score: String(done.fraudScore),
        fraud_flags: done.fraudFlags.join(","),
        failure_reason: done.failureReason,
      });
    }
    if (done.failureReason === "QUOTE_EXPIRED") {
      throw new WalletError("CONFLICT", "the exchange rate quote expired; try again", {
        transaction_id: done.id,
      });
    }
    return done;
  }

  async function resolveLegs(legs: PlannedLeg[]) {
    return book.resolve(legs);
  }

  const walletSide = (w: Wallet, amount: bigint): Side => ({
    account: { wallet: w.id },
    amount,
    currency: w.currency,
  });
  const outside = (system: "settlement" | "merchant_clearing", amount: bigint, currency: string): Side => ({
    account: { system, currency },
    amount,
    currency,
  });

  function provider(value: string, field: string): string {
    const v = value.trim().toLowerCase();
    if (v !== "" && !PROVIDER.test(v)) throw invalid(field, "must be a lower-case name such as visa or wire");
    return v;
  }

  /** The wallet a payment without wallet_id uses: the one in its currency, else the default one. */
  async function chooseWallet(user: User, currency: string): Promise<Wallet> {
    const wallets = await store.walletsOf(pool, user.id);
    const w =
      wallets.find((x) => x.currency === currency && x.status === "active") ??
      wallets.find((x) => x.isDefault && x.status === "active");
    if (w === undefined)
      throw new WalletError("NOT_FOUND", "the user has no wallet to pay with", { field: "wallet_id" });
    return w;
  }

  /** A purchase, top-up or withdrawal between a wallet and the outside, in any supported currency. */
  async function payment(p: UserPrincipal, input: PaymentInput, binding?: KeyBinding): Promise<Transaction> {
    const user = await activeUser(users, p.userId);
    const currency = input.currency.toUpperCase();
    await rates.requireSupported(currency, "currency");
    const amount = positive(input.amount, currency);
    const wallet = input.walletId
      ? await walletOf(users, p, input.walletId.toLowerCase(), { field: "wallet_id" })
      : await chooseWallet(user, currency);
    requireOpen(wallet, "wallet_id");
    const charged = await rates.convert(amount, currency, wallet.currency);
    if (charged.amount <= 0n)
      throw invalid("amount", "converts to less than the wallet currency's smallest unit");
    const baseAmount = wallet.currency === base ? charged.amount : await baseOf(amount, currency);
    checkMax(baseAmount);

    let merchantName = "";
    let merchantCategory = "";
    if (input.type === "purchase") {
      merchantName = input.merchantName.trim();
      merchantCategory = input.merchantCategory.trim().toLowerCase();
      if (merchantName === "") throw invalid("merchant_name", "is required for a purchase");
      if (!MERCHANT_CATEGORY.test(merchantCategory)) {
        throw invalid("merchant_category", "must be a lower-case word such as food_beverage");
      }
    }
    const mine = walletSide(wallet, charged.amount);
    const theirs = outside(input.type === "purchase" ? "merchant_clearing" : "settlement", amount, currency);
    const planned = input.type === "top_up" ? move(theirs, mine) : move(mine, theirs);
    const t = draft(
      user,
      {
        type: input.type,
        walletId: wallet.id,
        amount,
        currency,
        chargedAmount: charged.amount,
        chargedCurrency: wallet.currency,
        rate: charged.rate,
        baseAmount,
        merchantName,
        merchantCategory,
        source: input.source,
        description: input.description,
        legs: await resolveLegs(planned),
      },
      binding,
    );
    await record([t]);
    return finish(t);
  }

  /** A movement between two wallets: a transfer (to anyone) or a conversion (between one's own). */
  async function betweenWallets(
    user: User,
    from: Wallet,
    to: Wallet,
    amount: bigint,
    type: "transfer" | "conversion",
    description: string,
    toField: string,
    binding: KeyBinding | undefined,
  ): Promise<Transaction> {
    await rates.requireSupported(from.currency, "currency");
    await rates.requireSupported(to.currency, toField);
    const baseAmount = await baseOf(amount, from.currency);
    checkMax(baseAmount);
    let received = amount;
    let rate = "";
    let spread = 0n;
    let quoteId: string | null = null;
    if (from.currency !== to.currency) {
      const q = await rates.quote(amount, from.currency, to.currency, toField, user.id);
      received = q.toAmount;
      rate = q.rate;
      spread = q.spread;
      quoteId = q.id;
    }
    const legs = await resolveLegs(move(walletSide(from, amount), walletSide(to, received), spread));
    const common = {
      rate,
      toWalletId: to.id,
      toAmount: received,
      toCurrency: to.currency,
      spreadAmount: from.currency === to.currency ? null : spread,
      quoteId,
      description,
    };
    const out = draft(
      user,
      { type, walletId: from.id, amount, currency: from.currency, baseAmount, legs, ...common },
      binding,
    );
    if (type === "conversion") {
      await record([out]);
      return finish(out);
    }
    const recipient = await users.get(to.userId);
    const incoming = draft(recipient, {
      type,
      walletId: to.id,
      amount: received,
      currency: to.currency,
      chargedAmount: received,
      chargedCurrency: to.currency,
      baseAmount: to.currency === from.currency ? baseAmount : await baseOf(received, to.currency),
      direction: "incoming",
      counterpartyUserId: user.id,
      relatedTransactionId: out.id,
      // The incoming side is driven by the outgoing one and never taken over by recovery on its own.
      stage: "done",
      leaseUntil: null,
      ...common,
    });
    const outgoing: Transaction = {
      ...out,
      direction: "outgoing",
      counterpartyUserId: recipient.id,
      relatedTransactionId: incoming.id,
    };
    await record([outgoing, incoming]);
    return finish(outgoing);
  }

  return {
    /** Tops a wallet up from outside (type top_up). */
    async fund(
      p: UserPrincipal,
      walletId: string,
      amount: string,
      source: string,
      description: string,
      binding?: KeyBinding,
    ) {
      const user = await activeUser(users, p.userId);
      const wallet = await walletOf(users, p, walletId);
      requireOpen(wallet);
      await rates.requireSupported(wallet.currency, "currency");
      const minor = positive(amount, wallet.currency);
      const baseAmount = await baseOf(minor, wallet.currency);
      checkMax(baseAmount);
      const t = draft(
        user,
        {
          type: "top_up",
          walletId: wallet.id,
          amount: minor,
          currency: wallet.currency,
          baseAmount,
          source: provider(source, "source"),
          description,
          legs: await resolveLegs(
            move(outside("settlement", minor, wallet.currency), walletSide(wallet, minor)),
          ),
        },
        binding,
      );
      await record([t]);
      return finish(t);
    },

    /** Pays money out of a wallet (type withdrawal). */
    async withdraw(
      p: UserPrincipal,
      walletId: string,
      amount: string,
      destination: string,
      description: string,
      binding?: KeyBinding,
    ) {
      const user = await activeUser(users, p.userId);
      const wallet = await walletOf(users, p, walletId);
      requireOpen(wallet);
      await rates.requireSupported(wallet.currency, "currency");
      const minor = positive(amount, wallet.currency);
      const baseAmount = await baseOf(minor, wallet.currency);
      checkMax(baseAmount);
      const t = draft(
        user,
        {
          type: "withdrawal",
          walletId: wallet.id,
          amount: minor,
          currency: wallet.currency,
          baseAmount,
          source: provider(destination, "destination"),
          description,
          legs: await resolveLegs(
            move(walletSide(wallet, minor), outside("settlement", minor, wallet.currency)),
          ),
        },
        binding,
      );
      await record([t]);
      return finish(t);
    },

    /**
     * Admin: pays what is left in a wallet out to `destination` (a withdrawal with the reason), for an owner
     * who no longer moves money themselves; the wallet may be closed. The admin's decision: not scored, and
     * not in the owner's daily limit. An empty amount pays out the whole available balance.
     */
    async payOut(
      admin: UserPrincipal,
      walletId: string,
      input: { amount: string; destination: string; reason: string },
      binding?: KeyBinding,
    ) {
      const wallet = await walletOf(users, admin, walletId, { forRead: true });
      const owner = await users.get(wallet.userId);
      if (owner.status === "active") {
        throw new WalletError("CONFLICT", "the owner is active and withdraws their money themselves", {
          field: "id",
          status: owner.status,
        });
      }
      await rates.requireSupported(wallet.currency, "currency");
      let minor: bigint;
      if (input.amount === "") {
        minor = (await book.balance(wallet.id)).available;
        if (minor <= 0n) {
          throw new WalletError("CONFLICT", "the wallet has no available balance to pay out", {
            field: "amount",
            wallet_id: wallet.id,
          });
        }
      } else {
        minor = positive(input.amount, wallet.currency);
      }
      const baseAmount = await baseOf(minor, wallet.currency);
      checkMax(baseAmount);
      const t = draft(
        owner,
        {
          type: "withdrawal",
          walletId: wallet.id,
          amount: minor,
          currency: wallet.currency,
          baseAmount,
          source: provider(input.destination, "destination"),
          reason: input.reason,
          limitDay: null,
          needsScore: false,
          legs: await resolveLegs(
            move(walletSide(wallet, minor), outside("settlement", minor, wallet.currency)),
          ),
        },
        binding,
      );
      // Who paid whose money out, beside the transaction's own record (reason, destination).
      logger.info(
        { admin_id: admin.userId, user_id: owner.id, wallet_id: wallet.id, transaction_id: t.id },
        "admin payout",
      );
      await record([t]);
      return finish(t);
    },

    /** CreateTransaction: a purchase, top-up or withdrawal. */
    async pay(p: UserPrincipal, input: Omit<PaymentInput, "source">, binding?: KeyBinding) {
      return payment(p, { ...input, source: "" }, binding);
    },

    /** Sends money to any wallet (type transfer), through fx when the currencies differ. */
    async transfer(
      p: UserPrincipal,
      input: {
        fromWalletId: string;
        toWalletId: string;
        amount: string;
        currency: string;
        description: string;
      },
      binding?: KeyBinding,
    ) {
      const user = await activeUser(users, p.userId);
      const from = await walletOf(users, p, input.fromWalletId.toLowerCase(), { field: "from_wallet_id" });
      requireOpen(from, "from_wallet_id");
      const to = await users.wallet(input.toWalletId.toLowerCase());
      if (to === undefined) {
        throw new WalletError("NOT_FOUND", `wallet ${input.toWalletId} not found`, { field: "to_wallet_id" });
      }
      if (to.id === from.id) throw invalid("to_wallet_id", "must differ from from_wallet_id");
      const recipient = await users.get(to.userId);
      if (recipient.status === "closed" || recipient.status === "deleted" || to.status !== "active") {
        throw new WalletError("USER_NOT_ACTIVE", "the receiving user's account is closed", {
          field: "to_wallet_id",
          status: recipient.status,
        });
      }
      const currency = input.currency === "" ? from.currency : input.currency.toUpperCase();
      if (currency !== from.currency) {
        throw invalid("currency", `must be the sending wallet's currency (${from.currency})`);
      }
      const amount = positive(input.amount, from.currency);
      return betweenWallets(user, from, to, amount, "transfer", input.description, "to_wallet_id", binding);
    },

    /** Converts between two of the caller's wallets (opening the target wallet if needed). */
    async convert(
      p: UserPrincipal,
      walletId: string,
      toCurrency: string,
      amount: string,
      binding?: KeyBinding,
    ) {
      const user = await activeUser(users, p.userId);
      const from = await walletOf(users, p, walletId);
      requireOpen(from);
      const target = toCurrency.toUpperCase();
      if (target === from.currency) throw invalid("to_currency", "must differ from the wallet's currency");
      await rates.requireSupported(target, "to_currency");
      const minor = positive(amount, from.currency);
      const { wallet: to } = await users.openWallet(pool, user.id, target, false);
      requireOpen(to, "to_currency");
      return betweenWallets(user, from, to, minor, "conversion", "", "to_currency", binding);
    },

    /**
     * Refunds a completed purchase, in full or in part. The purchase is locked while the refund is recorded, so
     * concurrent refunds never add up to more than it.
     */
    async refund(
      p: UserPrincipal,
      id: string,
      amount: string,
      reason: string,
      binding?: KeyBinding,
    ): Promise<Transaction> {
      const purchase = await transactionOf(pool, p, id);
      const refusable = (why: string, message: string, details: Record<string, string> = {}) =>
        new WalletError("REFUND_NOT_ALLOWED", message, {
          reason: why,
          transaction_id: purchase.id,
          ...details,
        });
      if (purchase.type !== "purchase") throw refusable("not_a_purchase", "only purchases can be refunded");
      const owner = await users.get(purchase.userId);
      if (p.userId === purchase.userId && owner.status !== "active") {
        throw new WalletError("USER_NOT_ACTIVE", `the user is ${owner.status}`, { status: owner.status });
      }
      const requested = amount === "" ? undefined : positive(amount, purchase.currency);
      let refund: Transaction | undefined;
      const now = clock.now();
      await withTransaction(pool, async (tx) => {
        const original = await store.getTransaction(tx, purchase.id, { forUpdate: true });
        if (original === undefined) throw new WalletError("NOT_FOUND", `transaction ${id} not found`);
        if (original.status !== "completed") {
          throw refusable(
            "not_completed",
            `only completed purchases can be refunded; this one is ${original.status}`,
          );
        }
        const refundable = original.amount - original.refundedAmount;
        const value = requested ?? refundable;
        if (value <= 0n || value > refundable) {
          throw refusable(
            refundable === 0n ? "fully_refunded" : "exceeds_refundable",
            `at most ${formatAmount(refundable, original.currency)} ${original.currency} can still be refunded`,
            {
              refundable: formatAmount(refundable, original.currency),
              requested: formatAmount(value, original.currency),
            },
          );
        }
        const share = refundShare(original.chargedAmount, original.amount, original.refundedAmount, value);
        if (share <= 0n)
          throw refusable("too_small", "the refund is smaller than the wallet currency's smallest unit");
        const wallet = await store.getWallet(tx, original.walletId);
        if (wallet === undefined) throw new WalletError("NOT_FOUND", `wallet ${original.walletId} not found`);
        const legs = await resolveLegs(
          move(outside("merchant_clearing", value, original.currency), walletSide(wallet, share)),
        );
        refund = draft(
          owner,
          {
            type: "refund",
            walletId: wallet.id,
            amount: value,
            currency: original.currency,
            chargedAmount: share,
            chargedCurrency: wallet.currency,
            rate: original.rate,
            baseAmount: refundShare(original.baseAmount, original.amount, original.refundedAmount, value),
            merchantName: original.merchantName,
            merchantCategory: original.merchantCategory,
            originalTransactionId: original.id,
            reason,
            legs,
          },
          binding,
        );
        await store.insertTransaction(tx, refund);
        const updated = await store.addRefunded(tx, original.id, value, now);
        await publishTransactions(tx, "created", [refund], now);
        if (updated !== undefined) await publishTransactions(tx, "refunded", [updated], now);
      });
      if (refund === undefined) throw new Error("refund not recorded");
      return finish(refund);
    },

    /**
     * Admin: reverses a completed transaction by mirroring its ledger legs. A transfer is reversed from either
     * side; a purchase with refunds is refused (refund the rest instead).
     */
    async reverse(
      admin: UserPrincipal,
      id: string,
      reason: string,
      binding?: KeyBinding,
    ): Promise<Transaction> {
      const asked = await transactionOf(pool, admin, id);
      const drivingId =
        asked.direction === "incoming" && asked.relatedTransactionId ? asked.relatedTransactionId : asked.id;
      const now = clock.now();
      const reversed = await withTransaction(pool, async (tx) => {
        const t = await store.getTransaction(tx, drivingId, { forUpdate: true });
        if (t === undefined) throw new WalletError("NOT_FOUND", `transaction ${id} not found`);
        if (t.status !== "completed") {
          throw new WalletError(
            "CONFLICT",
            `only completed transactions can be reversed; this one is ${t.status}`,
            {
              status: t.status,
            },
          );
        }
        if (t.type === "purchase" && t.refundedAmount > 0n) {
          throw new WalletError(
            "CONFLICT",
            "a purchase with refunds cannot be reversed; refund the rest instead",
            {
              refunded_amount: formatAmount(t.refundedAmount, t.currency),
            },
          );
        }
        const refusal = await processor.reverse(t);
        if (refusal !== undefined) {
          if (refusal.reason === "INSUFFICIENT_FUNDS") {
            throw new WalletError("INSUFFICIENT_BALANCE", "a wallet no longer holds the money to give back", {
              transaction_id: t.id,
              wallet_id: refusal.details.account_id ?? "",
              available: refusal.details.available ?? "",
              requested: refusal.details.requested ?? "",
            });
          }
          throw new WalletError("CONFLICT", `the ledger refused the reversal: ${refusal.message}`, {
            ledger_reason: refusal.reason,
          });
        }
        const rows = await store.transition(tx, t.id, ["completed"], { status: "reversed", reason }, now, {
          bothSides: t.type === "transfer",
        });
        const [first] = rows;
        if (first === undefined) throw new WalletError("CONFLICT", "the transaction changed meanwhile");
        if (first.limitDay !== null)
          await store.releaseSpending(tx, first.userId, first.limitDay, first.baseAmount);
        if (first.type === "refund" && first.originalTransactionId !== null) {
          const original = await store.addRefunded(tx, first.originalTransactionId, -first.amount, now);
          if (original !== undefined) await publishTransactions(tx, "refunded", [original], now);
        }
        await publishTransactions(tx, "reversed", rows, now);
        // A reversal creates no transaction: its key is bound to the one it reversed, in this same database
        // transaction, so a retry answers that one instead of being refused as "already reversed".
        await binding?.bindTo(tx, asked.id);
        return rows;
      });
      return reversed.find((r) => r.id === asked.id) ?? (reversed[0] as Transaction);
    },

    /**
     * The answer for transaction `id`, created (or reversed) by an earlier attempt under the same
     * Idempotency-Key, or undefined when there is none (that attempt recorded nothing). A pending one whose
     * driver is gone (its lease ran out) is driven on, as the recovery pass would; it is never recorded again.
     */
    async resume(id: string): Promise<Transaction | undefined> {
      const t = await store.getTransaction(pool, id);
      if (t === undefined) return undefined;
      if (t.status !== "pending" || !(await store.claimOne(pool, id, clock.now(), settings.leaseMs))) {
        return answer({ transaction: t });
      }
      let driven: Transaction;
      try {
        driven = (await processor.recover(id)) ?? t;
      } catch (err) {
        logger.warn({ err, transaction_id: id }, "transaction left pending for the recovery pass");
        driven = (await store.getTransaction(pool, id)) ?? t;
      }
      return answer({ transaction: driven });
    },

    payment,
  };
}

export type Movements = ReturnType<typeof createMovements>;

/** The types CreateTransaction accepts. */
export const PAYMENT_TYPES: ReadonlySet<TransactionType> = new Set(["purchase", "top_up", "withdrawal"]);
