import { formatAmount } from "@fintech/money";
import type { Refusal, RefusalReason } from "./errors.js";
import type {
  Balances,
  BatchAccount,
  MoveRequest,
  Resolution,
  ResolveRequest,
  Transfer,
  TransferRequest,
  TransferView,
} from "./model.js";
import { available, isMove, MAX_AMOUNT, resolvedStatus, viewOf } from "./model.js";

/** What the database holds for a batch, as one write will find it (see ledger-service's runBatch). */
export interface BatchState {
  /** The accounts the batch touches, with their current balances. */
  accounts: ReadonlyMap<string, BatchAccount>;
  /** Stored transfers whose id is one of the batch's ids or pending ids. */
  stored: ReadonlyMap<string, Transfer>;
  /** What resolved the stored pending transfers in `stored` (absent: unresolved). */
  resolutions: ReadonlyMap<string, Resolution>;
  /** The batch's timestamp: every transfer it creates gets it. */
  now: Date;
}

export type Outcome =
  | { ok: true; transfer: TransferView; replayed: boolean }
  | { ok: false; refusal: Refusal };

export interface BatchResult {
  /** Per call, per transfer, in request order. */
  outcomes: Outcome[][];
  /** The transfers to insert, in the order they were applied. */
  created: Transfer[];
  /** Final balances of every account a created transfer touches. */
  balances: Map<string, Balances>;
}

type Step = { ok: true; transfer: Transfer; replayed: boolean } | { ok: false; refusal: Refusal };

/**
 * Applies a batch of calls in arrival order, in memory: idempotency (same id and fields returns the transfer
 * created first), account and pending-transfer checks, flag limits, and linked chains that succeed or fail as a
 * whole. Pure: the caller reads `state` and writes the result only where it still holds (under row locks, or
 * checking the accounts' versions).
 */
export function applyBatch(calls: readonly (readonly TransferRequest[])[], state: BatchState): BatchResult {
  const balances = new Map<string, Balances>();
  const created = new Map<string, Transfer>();
  const resolvedHere = new Map<string, Resolution>();
  const { now } = state;

  const balanceOf = (a: BatchAccount): Balances => balances.get(a.id) ?? a.balances;
  const resolutionOf = (id: string): Resolution | undefined =>
    resolvedHere.get(id) ?? state.resolutions.get(id);

  function apply(t: TransferRequest, undo: Array<() => void>): Step {
    const prior = created.get(t.id) ?? state.stored.get(t.id);
    if (prior !== undefined) {
      const field = differingField(t, prior);
      if (field === undefined) return { ok: true, transfer: prior, replayed: true };
      return refuse("EXISTS_WITH_DIFFERENT_FIELDS", `transfer ${t.id} exists with a different ${field}`, {
        transfer_id: t.id,
        field,
      });
    }
    const step = isMove(t) ? move(t) : resolve(t);
    if (!step.ok) return step;
    record(step.transfer, undo);
    return step;
  }

  function record(transfer: Transfer, undo: Array<() => void>): void {
    for (const [id, next] of [
      [transfer.debitAccountId, transfer.debitAfter],
      [transfer.creditAccountId, transfer.creditAfter],
    ] as const) {
      const prev = balances.get(id);
      undo.push(() => (prev === undefined ? balances.delete(id) : balances.set(id, prev)));
      balances.set(id, next);
    }
    created.set(transfer.id, transfer);
    undo.push(() => created.delete(transfer.id));
    if (transfer.pendingId !== null) {
      const pendingId = transfer.pendingId;
      resolvedHere.set(pendingId, {
        id: transfer.id,
        kind: transfer.kind === "post" ? "post" : "void",
        expired: transfer.expired,
      });
      undo.push(() => resolvedHere.delete(pendingId));
    }
  }

  function move(t: MoveRequest): Step {
    if (t.debitAccountId === t.creditAccountId) {
      return refuse("SAME_ACCOUNT", "the debit and credit accounts are the same", {
        account_id: t.debitAccountId,
      });
    }
    const dr = state.accounts.get(t.debitAccountId);
    if (dr === undefined) return notFound(t.debitAccountId, "debit_account_id");
    const cr = state.accounts.get(t.creditAccountId);
    if (cr === undefined) return notFound(t.creditAccountId, "credit_account_id");
    for (const a of [dr, cr]) {
      if (a.currency !== t.currency) {
        return refuse("CURRENCY_MISMATCH", `account ${a.id} holds ${a.currency}, not ${t.currency}`, {
          account_id: a.id,
          account_currency: a.currency,
          currency: t.currency,
        });
      }
      if (a.flags.closed) return closed(a);
    }
    const drBefore = balanceOf(dr);
    const crBefore = balanceOf(cr);
    const posted = t.kind === "single";
    const drAfter: Balances = posted
      ? { ...drBefore, debitsPosted: drBefore.debitsPosted + t.amount }
      : { ...drBefore, debitsPending: drBefore.debitsPending + t.amount };
    const crAfter: Balances = posted
      ? { ...crBefore, creditsPosted: crBefore.creditsPosted + t.amount }
      : { ...crBefore, creditsPending: crBefore.creditsPending + t.amount };
    const overflow = overflowing([dr, drAfter], [cr, crAfter]);
    if (overflow !== undefined) return overflow;
    if (
      dr.flags.debitsMustNotExceedCredits &&
      drAfter.debitsPosted + drAfter.debitsPending > drAfter.creditsPosted
    ) {
      return refuse("INSUFFICIENT_FUNDS", `account ${dr.id} has insufficient funds`, {
        account_id: dr.id,
        available: formatAmount(available(dr.flags, drBefore), t.currency),
        requested: formatAmount(t.amount, t.currency),
      });
    }
    if (
      cr.flags.creditsMustNotExceedDebits &&
      crAfter.creditsPosted + crAfter.creditsPending > crAfter.debitsPosted
    ) {
      return refuse("CREDITS_EXCEED_DEBITS", `account ${cr.id} cannot take more credits than its debits`, {
        account_id: cr.id,
        available: formatAmount(available(cr.flags, crBefore), t.currency),
        requested: formatAmount(t.amount, t.currency),
      });
    }
    return fresh({
      id: t.id,
      kind: t.kind,
      linked: t.linked,
      expired: false,
      debitAccountId: dr.id,
      creditAccountId: cr.id,
      amount: t.amount,
      pendingAmount: 0n,
      currency: t.currency,
      code: t.code,
      pendingId: null,
      timeoutSeconds: t.kind === "pending" ? t.timeoutSeconds : 0,
      expiresAt:
        t.kind === "pending" && t.timeoutSeconds > 0
          ? new Date(now.getTime() + t.timeoutSeconds * 1000)
          : null,
      reference: t.reference,
      description: t.description,
      userData: t.userData,
      createdAt: now,
      debitAfter: drAfter,
      creditAfter: crAfter,
    });
  }

  function resolve(t: ResolveRequest): Step {
    const p = created.get(t.pendingId) ?? state.stored.get(t.pendingId);
    const pendingDetails = { pending_id: t.pendingId };
    if (p === undefined || p.kind !== "pending") {
      return refuse("PENDING_NOT_FOUND", `no pending transfer ${t.pendingId}`, pendingDetails);
    }
    const earlier = resolutionOf(p.id);
    if (earlier !== undefined) {
      const status = resolvedStatus(earlier);
      return refuse("PENDING_ALREADY_RESOLVED", `pending transfer ${p.id} is already ${status}`, {
        ...pendingDetails,
        resolved_by_id: earlier.id,
        status,
      });
    }
    const mismatch = (field: string) =>
      refuse("PENDING_MISMATCH", `${field} differs from pending transfer ${p.id}'s`, {
        ...pendingDetails,
        field,
      });
    if (t.debitAccountId !== undefined && t.debitAccountId !== p.debitAccountId) {
      return mismatch("debit_account_id");
    }
    if (t.creditAccountId !== undefined && t.creditAccountId !== p.creditAccountId) {
      return mismatch("credit_account_id");
    }
    if (t.currency !== undefined && t.currency !== p.currency) return mismatch("currency");
    if (t.code !== 0 && t.code !== p.code) return mismatch("code");
    if (p.expiresAt !== null && now >= p.expiresAt && !t.expiry) {
      return refuse("PENDING_EXPIRED", `pending transfer ${p.id} expired`, {
        ...pendingDetails,
        expires_at: p.expiresAt.toISOString(),
      });
    }
    const requested = t.amount ?? p.amount;
    if (requested > p.amount) {
      return refuse("AMOUNT_EXCEEDS_PENDING", `the amount exceeds pending transfer ${p.id}'s`, {
        ...pendingDetails,
        pending_amount: formatAmount(p.amount, p.currency),
        requested: formatAmount(requested, p.currency),
      });
    }
    if (t.kind === "void" && requested !== p.amount) return mismatch("amount");
    const dr = batchAccount(p.debitAccountId);
    const cr = batchAccount(p.creditAccountId);
    // Releasing reserved funds is always allowed; posting them to or from a closed account is not.
    if (t.kind === "post") {
      if (dr.flags.closed) return closed(dr);
      if (cr.flags.closed) return closed(cr);
    }
    const posted = t.kind === "post" ? requested : 0n;
    const drBefore = balanceOf(dr);
    const crBefore = balanceOf(cr);
    const drAfter: Balances = {
      ...drBefore,
      debitsPending: drBefore.debitsPending - p.amount,
      debitsPosted: drBefore.debitsPosted + posted,
    };
    const crAfter: Balances = {
      ...crBefore,
      creditsPending: crBefore.creditsPending - p.amount,
      creditsPosted: crBefore.creditsPosted + posted,
    };
    // No limit check: resolving never raises debits_posted + debits_pending or credits_posted + credits_pending.
    const overflow = overflowing([dr, drAfter], [cr, crAfter]);
    if (overflow !== undefined) return overflow;
    return fresh({
      id: t.id,
      kind: t.kind,
      linked: t.linked,
      expired: t.expiry,
      debitAccountId: dr.id,
      creditAccountId: cr.id,
      amount: requested,
      pendingAmount: p.amount,
      currency: p.currency,
      code: t.code === 0 ? p.code : t.code,
      pendingId: p.id,
      timeoutSeconds: 0,
      expiresAt: null,
      reference: t.reference,
      description: t.description,
      userData: t.userData,
      createdAt: now,
      debitAfter: drAfter,
      creditAfter: crAfter,
    });
  }

  function batchAccount(id: string): BatchAccount {
    const a = state.accounts.get(id);
    // The caller reads the accounts of every pending transfer the batch resolves; missing one is a bug.
    if (a === undefined) throw new Error(`account ${id} of a pending transfer was not read`);
    return a;
  }

  const outcomes: Outcome[][] = [];
  for (const call of calls) {
    const steps: Step[] = [];
    let start = 0;
    while (start < call.length) {
      let end = start;
      while (end < call.length - 1 && call[end]?.linked) end++;
      const undo: Array<() => void> = [];
      let failed = -1;
      for (let i = start; i <= end; i++) {
        const t = call[i];
        if (t === undefined) break;
        const step = apply(t, undo);
        steps[i] = step;
        if (!step.ok) {
          failed = i;
          break;
        }
      }
      if (failed >= 0 && end > start) {
        for (let u = undo.length - 1; u >= 0; u--) undo[u]?.();
        for (let i = start; i <= end; i++) {
          if (i === failed) continue;
          steps[i] = refuse("LINKED_EVENT_FAILED", `transfer ${failed} of its linked chain was refused`, {
            failed_index: String(failed),
          });
        }
      }
      start = end + 1;
    }
    // Views are made last so a pending transfer resolved later in the batch shows its final status.
    outcomes.push(
      steps.map((s): Outcome => {
        if (!s.ok) return s;
        return { ok: true, transfer: viewOf(s.transfer, resolutionOf(s.transfer.id)), replayed: s.replayed };
      }),
    );
  }

  const touched = new Map<string, Balances>();
  for (const t of created.values()) {
    for (const id of [t.debitAccountId, t.creditAccountId]) {
      const b = balances.get(id);
      if (b !== undefined) touched.set(id, b);
    }
  }
  return { outcomes, created: [...created.values()], balances: touched };
}

function fresh(transfer: Transfer): Step {
  return { ok: true, transfer, replayed: false };
}

function refuse(
  reason: RefusalReason,
  message: string,
  details: Record<string, string>,
): Step & { ok: false } {
  return { ok: false, refusal: { reason, message, details } };
}

function notFound(id: string, field: string): Step {
  return refuse("ACCOUNT_NOT_FOUND", `account ${id} not found`, { account_id: id, field });
}

function closed(a: BatchAccount): Step {
  return refuse("ACCOUNT_CLOSED", `account ${a.id} is closed`, { account_id: a.id });
}

function overflowing(...sides: Array<[BatchAccount, Balances]>): Step | undefined {
  for (const [a, b] of sides) {
    if (b.debitsPosted + b.debitsPending > MAX_AMOUNT || b.creditsPosted + b.creditsPending > MAX_AMOUNT) {
      return refuse("BALANCE_OVERFLOW", `account ${a.id} would exceed the largest balance`, {
        account_id: a.id,
      });
    }
  }
  return undefined;
}

/** The first field in which a retried transfer differs from the stored one with its id, or undefined. */
export function differingField(t: TransferRequest, prior: Transfer): string | undefined {
  if (t.kind !== prior.kind) return "flags";
  if (t.linked !== prior.linked) return "flags.linked";
  if (isMove(t)) {
    if (t.debitAccountId !== prior.debitAccountId) return "debit_account_id";
    if (t.creditAccountId !== prior.creditAccountId) return "credit_account_id";
    if (t.amount !== prior.amount) return "amount";
    if (t.currency !== prior.currency) return "currency";
    if (t.code !== prior.code) return "code";
    if (t.timeoutSeconds !== prior.timeoutSeconds) return "timeout_seconds";
  } else {
    if (t.pendingId !== prior.pendingId) return "pending_id";
    if (t.expiry !== prior.expired) return "flags";
    if (t.debitAccountId !== undefined && t.debitAccountId !== prior.debitAccountId)
      return "debit_account_id";
    if (t.creditAccountId !== undefined && t.creditAccountId !== prior.creditAccountId) {
      return "credit_account_id";
    }
    // An omitted amount means the whole pending amount, which the stored transfer records.
    if ((t.amount ?? prior.pendingAmount) !== prior.amount) return "amount";
    if (t.currency !== undefined && t.currency !== prior.currency) return "currency";
    if (t.code !== 0 && t.code !== prior.code) return "code";
  }
  if (t.reference !== prior.reference) return "reference";
  if (t.description !== prior.description) return "description";
  if (!sameRecord(t.userData, prior.userData)) return "user_data";
  return undefined;
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}
