// The ledger's domain types. Amounts and balances are bigint minor units; ids are lower-case UUID strings.

/** Largest amount or balance the ledger holds: Postgres BIGINT, 2^63-1 minor units. */
export const MAX_AMOUNT = 2n ** 63n - 1n;

/** Most transfers in one CreateTransfers call (TigerBeetle's batch size). */
export const MAX_BATCH_TRANSFERS = 8190;

export type AccountKind =
  | "general"
  | "settlement"
  | "merchant_clearing"
  | "fx_liquidity"
  | "revenue"
  | "fees";

/** The kinds that exist once per currency, opened on demand. */
export const SYSTEM_KINDS: readonly AccountKind[] = [
  "settlement",
  "merchant_clearing",
  "fx_liquidity",
  "revenue",
  "fees",
];

export interface AccountFlags {
  debitsMustNotExceedCredits: boolean;
  creditsMustNotExceedDebits: boolean;
  closed: boolean;
}

export interface Balances {
  readonly debitsPending: bigint;
  readonly debitsPosted: bigint;
  readonly creditsPending: bigint;
  readonly creditsPosted: bigint;
}

export const ZERO_BALANCES: Balances = {
  debitsPending: 0n,
  debitsPosted: 0n,
  creditsPending: 0n,
  creditsPosted: 0n,
};

export interface Account {
  id: string;
  currency: string;
  kind: AccountKind;
  code: number;
  ownerRef: string;
  flags: AccountFlags;
  balances: Balances;
  createdAt: Date;
  /** When the last transfer touching it was applied (createdAt before any). */
  updatedAt: Date;
}

/** What a batch needs of an account it touches, as read for it (under a row lock or not). */
export type BatchAccount = Pick<Account, "id" | "currency" | "flags" | "balances"> & {
  /** Account.updatedAt in epoch milliseconds (no Date parsed per row). */
  updatedAtMs: number;
  /** The row version read (Postgres's xmin): a batch that read without a lock writes only if it is unchanged. */
  version: string;
};

/**
 * single: moves money at once. pending: reserves it. post: posts a pending transfer (wholly or partly).
 * void: releases a pending transfer.
 */
export type TransferKind = "single" | "pending" | "post" | "void";

interface RequestBase {
  id: string;
  linked: boolean;
  code: number;
  reference: string;
  description: string;
  userData: Readonly<Record<string, string>>;
}

/** A single-phase or pending transfer as a caller asks for it, after validation. */
export interface MoveRequest extends RequestBase {
  kind: "single" | "pending";
  debitAccountId: string;
  creditAccountId: string;
  amount: bigint;
  currency: string;
  /** Pending only; 0 = never times out. */
  timeoutSeconds: number;
}

/** A post or void of a pending transfer; the optional fields default to the pending transfer's. */
export interface ResolveRequest extends RequestBase {
  kind: "post" | "void";
  pendingId: string;
  debitAccountId: string | undefined;
  creditAccountId: string | undefined;
  /** Undefined: the whole pending amount. */
  amount: bigint | undefined;
  currency: string | undefined;
  /** Set only by the ledger's own void of a timed-out pending transfer. */
  expiry: boolean;
}

export type TransferRequest = MoveRequest | ResolveRequest;

export const isMove = (t: TransferRequest): t is MoveRequest => t.kind === "single" || t.kind === "pending";

/** A transfer as stored: immutable. */
export interface Transfer {
  id: string;
  kind: TransferKind;
  linked: boolean;
  /** A void made by the ledger because the pending transfer timed out. */
  expired: boolean;
  debitAccountId: string;
  creditAccountId: string;
  /** Moved (single, post), reserved (pending) or released (void). */
  amount: bigint;
  /** post/void: the pending amount released (the pending transfer's amount); 0 otherwise. */
  pendingAmount: bigint;
  currency: string;
  code: number;
  pendingId: string | null;
  timeoutSeconds: number;
  expiresAt: Date | null;
  reference: string;
  description: string;
  userData: Readonly<Record<string, string>>;
  createdAt: Date;
  /** Both accounts' balances right after this transfer. */
  debitAfter: Balances;
  creditAfter: Balances;
}

export type TransferStatus = "posted" | "pending" | "voided" | "expired";

/** What resolved a pending transfer. */
export interface Resolution {
  id: string;
  kind: "post" | "void";
  expired: boolean;
}

/** A stored transfer with its status as of now. */
export interface TransferView extends Transfer {
  status: TransferStatus;
  /** Pending transfers: the post or void that resolved it. */
  resolvedById: string | null;
}

/** A transfer with its status, given what resolved it (pending transfers; ignored for the others). */
export function viewOf(t: Transfer, resolution: Resolution | undefined): TransferView {
  const r = t.kind === "pending" ? resolution : undefined;
  return { ...t, status: statusOf(t, r), resolvedById: r?.id ?? null };
}

/** The status a resolution gives its pending transfer. */
export function resolvedStatus(r: Resolution): TransferStatus {
  if (r.kind === "post") return "posted";
  return r.expired ? "expired" : "voided";
}

function statusOf(t: Transfer, resolution: Resolution | undefined): TransferStatus {
  switch (t.kind) {
    case "single":
    case "post":
      return "posted";
    case "void":
      return t.expired ? "expired" : "voided";
    case "pending":
      return resolution === undefined ? "pending" : resolvedStatus(resolution);
  }
}

/**
 * What can still be debited (credit-normal accounts) or credited (accounts with credits_must_not_exceed_debits);
 * see Balance.available in ledger.proto.
 */
export function available(flags: AccountFlags, b: Balances): bigint {
  if (flags.creditsMustNotExceedDebits) return b.debitsPosted - b.creditsPosted - b.creditsPending;
  return b.creditsPosted - b.debitsPosted - b.debitsPending;
}

/** What the integrity check found wrong: a currency whose books do not balance, or one account. */
export type ViolationKind =
  | "currency_unbalanced"
  | "balance_mismatch"
  | "limit_exceeded"
  | "dangling_transfer";

export interface Violation {
  kind: ViolationKind;
  currency: string;
  /** "" for a currency-wide violation. */
  accountId: string;
  message: string;
}
