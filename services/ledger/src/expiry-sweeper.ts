import { createExclusiveJob, withAdvisoryLock } from "@fintech/db";
import { derivedId } from "@fintech/events";
import type { Clock } from "@fintech/platform";
import type pg from "pg";
import type { Logger } from "pino";
import type { LedgerService } from "./ledger-service.js";
import type { LedgerMetrics } from "./metrics.js";
import type { ResolveRequest } from "./model.js";
import { store } from "./store.js";

/** Voids pending transfers whose timeout has passed; see {@link createExpirySweeper}. */
export interface ExpirySweeper {
  /** Starts sweeping every `intervalMs` in the background. */
  start(): void;
  /** Stops after the pass in progress. */
  stop(): Promise<void>;
  /**
   * One pass, unless another replica is sweeping: voids up to `batchSize` timed-out pending transfers; returns how
   * many it voided (0 when another replica holds the sweep).
   */
  runOnce(): Promise<number>;
}

/** The sweep's advisory lock: one replica sweeps at a time. */
const SWEEP_LOCK = "ledger.expiry-sweeper";

/**
 * The id of the ledger's void of a timed-out pending transfer: derived from the pending id, so replicas
 * sweeping at once write one void between them (the second is a replay).
 */
export function expiryTransferId(pendingId: string): string {
  return derivedId(`ledger.expiry:${pendingId}`);
}

/**
 * Voids, through the ledger's own batcher (so with the same locks and checks as any transfer), every pending
 * transfer whose expires_at is at or before the clock's now. Each void is published as ledger.transfer.expired.
 * Every replica runs the schedule; the one holding the sweep's advisory lock sweeps and the others skip that
 * pass (libs/db's createExclusiveJob), and the void ids derive from the pending ids, so a sweep that overlaps
 * one whose lock was lost writes each void once all the same. Defaults: `batchSize` 1000.
 */
export function createExpirySweeper(deps: {
  pool: pg.Pool;
  ledger: Pick<LedgerService, "createTransfers">;
  clock: Clock;
  logger: Logger;
  metrics: LedgerMetrics;
  intervalMs: number;
  batchSize?: number;
}): ExpirySweeper {
  const { pool, ledger, clock, logger, metrics, intervalMs } = deps;
  const batchSize = deps.batchSize ?? 1000;
  const log = logger.child({ component: "expiry-sweeper" });
  let failing = false;

  async function sweep(): Promise<number> {
    const due = await store.expiredPendings(pool, clock.now(), batchSize);
    if (due.length === 0) return 0;
    const voids = due.map(
      (pendingId): ResolveRequest => ({
        id: expiryTransferId(pendingId),
        kind: "void",
        pendingId,
        linked: false,
        debitAccountId: undefined,
        creditAccountId: undefined,
        amount: undefined,
        currency: undefined,
        code: 0,
        reference: "",
        description: "pending transfer timed out",
        userData: {},
        expiry: true,
      }),
    );
    const outcomes = await ledger.createTransfers(voids);
    let voided = 0;
    outcomes.forEach((o, i) => {
      if (o.ok) {
        if (!o.replayed) voided++;
      } else if (o.refusal.reason !== "PENDING_ALREADY_RESOLVED") {
        log.error(
          { pending_id: due[i], reason: o.refusal.reason },
          "could not void a timed-out pending transfer",
        );
      }
    });
    metrics.expired.inc(voided);
    return voided;
  }

  const job = createExclusiveJob({
    pool,
    name: SWEEP_LOCK,
    intervalMs,
    run: async (signal) => {
      while ((await sweep()) === batchSize && !signal.aborted);
      if (failing) log.info("expiry sweeper recovered");
      failing = false;
    },
    onError: (err) => {
      // Logged once per outage, not once per pass.
      if (!failing) log.error({ err }, "expiry sweep failed; retrying");
      failing = true;
    },
  });

  return {
    start: job.start,
    stop: job.stop,
    async runOnce() {
      const outcome = await withAdvisoryLock(pool, SWEEP_LOCK, () => sweep());
      return outcome.acquired ? outcome.value : 0;
    },
  };
}
