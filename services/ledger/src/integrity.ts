import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Queryable } from "@fintech/db";
import { withTransaction } from "@fintech/db";
import { enqueue } from "@fintech/events";
import type { Clock } from "@fintech/platform";
import { IntegrityViolatedSchema } from "@fintech/proto/fintech/ledger/v1/events_pb.js";
import type pg from "pg";
import type { Logger } from "pino";
import { LEDGER_EVENTS } from "./events.js";
import { violationMessage } from "./messages.js";
import type { LedgerMetrics } from "./metrics.js";
import type { Violation } from "./model.js";
import type { AccountDiscrepancy } from "./store.js";
import { store } from "./store.js";

/** Per currency, the sums of every account's balances, in minor units. */
export interface CurrencyTotals {
  currency: string;
  debitsPending: bigint;
  debitsPosted: bigint;
  creditsPending: bigint;
  creditsPosted: bigint;
}

export interface IntegrityReport {
  ok: boolean;
  violations: Violation[];
  totals: CurrencyTotals[];
  accountsChecked: number;
  transfersChecked: number;
  checkedAt: Date;
}

export interface IntegrityChecker {
  /** Checks the whole book now, in one snapshot; a violation is logged, counted and published. */
  check(): Promise<IntegrityReport>;
  /**
   * The scheduled check, when it is due: when no replica has run it in the last `intervalSeconds` (by the clock),
   * this one claims the run in the transaction that reads the book and checks it, so replicas together check once
   * per interval. Returns the report, or undefined when the check was not due (another replica ran it).
   */
  runScheduled(): Promise<IntegrityReport | undefined>;
  /**
   * Runs the scheduled check when it is due, asking every `intervalSeconds` or every minute, whichever is shorter
   * (nothing when `intervalSeconds` is 0).
   */
  start(): void;
  stop(): Promise<void>;
}

/** Longest wait between two asks whether the scheduled check is due, in ms. */
const SCHEDULE_POLL_MS = 60_000;

/**
 * The ledger's self-check: per currency, total debits equal total credits (posted and pending), and every
 * account's stored balances equal the sums of its transfers and respect its flags. Reads run in one
 * REPEATABLE READ snapshot, so transfers committed meanwhile never show up half.
 */
export function createIntegrityChecker(deps: {
  pool: pg.Pool;
  clock: Clock;
  logger: Logger;
  metrics: LedgerMetrics;
  intervalSeconds: number;
}): IntegrityChecker {
  const { pool, clock, logger, metrics } = deps;
  const log = logger.child({ component: "integrity" });
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<unknown> | undefined;

  /**
   * Runs `read` (the claim and the snapshot) in one REPEATABLE READ transaction, counting a failure; a replica
   * claiming the scheduled run at the same time waits for this transaction, fails to serialize, and finds on its
   * retry that the run is taken.
   */
  async function inTransaction<T>(read: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
    try {
      return await withTransaction(pool, read, { isolation: "repeatable read" });
    } catch (err) {
      metrics.integrityChecks.inc({ result: "failed" });
      throw err;
    }
  }

  /** Counts a check and, when it found violations, counts and logs them. */
  function reported(report: IntegrityReport): IntegrityReport {
    metrics.integrityChecks.inc({ result: report.ok ? "ok" : "violated" });
    if (!report.ok) {
      for (const v of report.violations) metrics.integrityViolations.inc({ kind: v.kind });
      log.error(
        { violations: report.violations.slice(0, 20), count: report.violations.length },
        "LEDGER INTEGRITY VIOLATED",
      );
    }
    return report;
  }

  async function check(): Promise<IntegrityReport> {
    const checkedAt = clock.now();
    return reported(await inTransaction((tx) => inspect(tx, checkedAt)));
  }

  async function runScheduled(): Promise<IntegrityReport | undefined> {
    const checkedAt = clock.now();
    const report = await inTransaction(async (tx) =>
      (await store.claimIntegrityRun(tx, checkedAt, deps.intervalSeconds))
        ? inspect(tx, checkedAt)
        : undefined,
    );
    return report === undefined ? undefined : reported(report);
  }

  return {
    check,
    runScheduled,
    start() {
      if (timer !== undefined || deps.intervalSeconds === 0) return;
      timer = setInterval(
        () => {
          inFlight ??= runScheduled()
            .catch((err: unknown) => log.error({ err }, "scheduled integrity check failed"))
            .finally(() => {
              inFlight = undefined;
            });
        },
        Math.min(deps.intervalSeconds * 1000, SCHEDULE_POLL_MS),
      );
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await inFlight;
    },
  };
}

/**
 * Reads the book in `tx`'s snapshot; a violation is published in the same transaction, so a check and its event
 * commit together (once per scheduled run, however many replicas).
 */
async function inspect(tx: Queryable, checkedAt: Date): Promise<IntegrityReport> {
  const sums = await store.currencySums(tx);
  const discrepancies = await store.discrepancies(tx);
  const transfers = await store.countTransfers(tx);
  const totals = sums.map(
    (s): CurrencyTotals => ({
      currency: s.currency,
      debitsPending: BigInt(s.debits_pending),
      debitsPosted: BigInt(s.debits_posted),
      creditsPending: BigInt(s.credits_pending),
      creditsPosted: BigInt(s.credits_posted),
    }),
  );
  const violations = [...totals.flatMap(unbalanced), ...discrepancies.flatMap(explain)];
  const report: IntegrityReport = {
    ok: violations.length === 0,
    violations,
    totals,
    accountsChecked: sums.reduce((n, s) => n + s.accounts, 0),
    transfersChecked: transfers,
    checkedAt,
  };
  if (!report.ok) await publish(tx, report);
  return report;
}

/** The violation event, written in the transaction of the check that found it. */
async function publish(tx: Queryable, report: IntegrityReport): Promise<void> {
  await enqueue(tx, {
    type: LEDGER_EVENTS.integrityViolated,
    schema: IntegrityViolatedSchema,
    message: create(IntegrityViolatedSchema, {
      violations: report.violations.map(violationMessage),
      checkedAt: timestampFromDate(report.checkedAt),
    }),
  });
}

function unbalanced(t: CurrencyTotals): Violation[] {
  const out: Violation[] = [];
  if (t.debitsPosted !== t.creditsPosted) {
    out.push({
      kind: "currency_unbalanced",
      currency: t.currency,
      accountId: "",
      message: `${t.currency} posted debits ${t.debitsPosted} != posted credits ${t.creditsPosted} (minor units)`,
    });
  }
  if (t.debitsPending !== t.creditsPending) {
    out.push({
      kind: "currency_unbalanced",
      currency: t.currency,
      accountId: "",
      message: `${t.currency} pending debits ${t.debitsPending} != pending credits ${t.creditsPending} (minor units)`,
    });
  }
  return out;
}

function explain(d: AccountDiscrepancy): Violation[] {
  const at = { accountId: d.account_id, currency: d.currency ?? d.transfer_currencies ?? "" };
  if (d.currency === null) {
    return [
      {
        ...at,
        kind: "dangling_transfer",
        message: `transfers name account ${d.account_id}, which does not exist`,
      },
    ];
  }
  const out: Violation[] = [];
  if (d.transfer_currencies !== null && d.transfer_currencies !== d.currency) {
    out.push({
      ...at,
      kind: "dangling_transfer",
      message: `account ${d.account_id} holds ${d.currency} but has transfers in ${d.transfer_currencies}`,
    });
  }
  const pairs: Array<[string, bigint | null, string]> = [
    ["debits_pending", d.debits_pending, d.sum_debits_pending],
    ["debits_posted", d.debits_posted, d.sum_debits_posted],
    ["credits_pending", d.credits_pending, d.sum_credits_pending],
    ["credits_posted", d.credits_posted, d.sum_credits_posted],
  ];
  for (const [name, stored, sum] of pairs) {
    if (stored !== BigInt(sum)) {
      out.push({
        ...at,
        kind: "balance_mismatch",
        message: `account ${d.account_id} ${name} is ${stored} but its transfers sum to ${sum} (minor units)`,
      });
    }
  }
  const dp = d.debits_posted ?? 0n;
  const dpe = d.debits_pending ?? 0n;
  const cp = d.credits_posted ?? 0n;
  const cpe = d.credits_pending ?? 0n;
  if (dpe < 0n || cpe < 0n) {
    out.push({
      ...at,
      kind: "limit_exceeded",
      message: `account ${d.account_id} has a negative pending balance`,
    });
  }
  if (d.debits_must_not_exceed_credits && dp + dpe > cp) {
    out.push({
      ...at,
      kind: "limit_exceeded",
      message: `account ${d.account_id} has debits above its credits`,
    });
  }
  if (d.credits_must_not_exceed_debits && cp + cpe > dp) {
    out.push({
      ...at,
      kind: "limit_exceeded",
      message: `account ${d.account_id} has credits above its debits`,
    });
  }
  return out;
}
