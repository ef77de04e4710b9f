// Domain values <-> protobuf messages: decimal strings and enums at the edge, bigint minor units inside.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { formatAmount, parseAmount } from "@fintech/money";
import type {
  Account as AccountMessage,
  Balance,
  IntegrityViolation,
  NewTransfer,
  Transfer as TransferMessage,
} from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import {
  AccountKind as AccountKindProto,
  AccountSchema,
  BalanceSchema,
  IntegrityViolationKind,
  IntegrityViolationSchema,
  TransferSchema,
  TransferStatus as TransferStatusProto,
} from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import type {
  Account,
  AccountFlags,
  AccountKind,
  Balances,
  TransferRequest,
  TransferStatus,
  TransferView,
  Violation,
  ViolationKind,
} from "./model.js";
import { available } from "./model.js";

const kinds: Record<AccountKind, AccountKindProto> = {
  general: AccountKindProto.GENERAL,
  settlement: AccountKindProto.SETTLEMENT,
  merchant_clearing: AccountKindProto.MERCHANT_CLEARING,
  fx_liquidity: AccountKindProto.FX_LIQUIDITY,
  revenue: AccountKindProto.REVENUE,
  fees: AccountKindProto.FEES,
};

const statuses: Record<TransferStatus, TransferStatusProto> = {
  posted: TransferStatusProto.POSTED,
  pending: TransferStatusProto.PENDING,
  voided: TransferStatusProto.VOIDED,
  expired: TransferStatusProto.EXPIRED,
};

/** The domain kind of an AccountKind value; undefined for UNSPECIFIED and unknown values. */
export function accountKindOf(value: AccountKindProto): AccountKind | undefined {
  for (const [kind, v] of Object.entries(kinds) as Array<[AccountKind, AccountKindProto]>) {
    if (v === value) return kind;
  }
  return undefined;
}

export function balanceMessage(flags: AccountFlags, b: Balances, currency: string): Balance {
  return create(BalanceSchema, {
    debitsPending: formatAmount(b.debitsPending, currency),
    debitsPosted: formatAmount(b.debitsPosted, currency),
    creditsPending: formatAmount(b.creditsPending, currency),
    creditsPosted: formatAmount(b.creditsPosted, currency),
    available: formatAmount(available(flags, b), currency),
  });
}

export function accountMessage(a: Account): AccountMessage {
  return create(AccountSchema, {
    id: a.id,
    currency: a.currency,
    kind: kinds[a.kind],
    code: a.code,
    ownerRef: a.ownerRef,
    flags: {
      debitsMustNotExceedCredits: a.flags.debitsMustNotExceedCredits,
      creditsMustNotExceedDebits: a.flags.creditsMustNotExceedDebits,
      closed: a.flags.closed,
    },
    balance: balanceMessage(a.flags, a.balances, a.currency),
    createdAt: timestampFromDate(a.createdAt),
  });
}

export function transferMessage(t: TransferView): TransferMessage {
  const pendingAmount =
    t.kind === "post" || t.kind === "void" ? formatAmount(t.pendingAmount, t.currency) : "";
  return create(TransferSchema, {
    id: t.id,
    debitAccountId: t.debitAccountId,
    creditAccountId: t.creditAccountId,
    amount: formatAmount(t.amount, t.currency),
    currency: t.currency,
    code: t.code,
    flags: {
      linked: t.linked,
      pending: t.kind === "pending",
      postPending: t.kind === "post",
      voidPending: t.kind === "void",
    },
    pendingId: t.pendingId ?? "",
    timeoutSeconds: t.timeoutSeconds,
    reference: t.reference,
    description: t.description,
    userData: { ...t.userData },
    createdAt: timestampFromDate(t.createdAt),
    status: statuses[t.status],
    expiresAt: t.expiresAt === null ? undefined : timestampFromDate(t.expiresAt),
    resolvedById: t.resolvedById ?? "",
    pendingAmount,
  });
}

/** A validated NewTransfer (see validation.ts) as the domain sees it: ids lower-case, codes upper-case. */
export function transferRequestOf(n: NewTransfer): TransferRequest {
  const currency = n.currency === "" ? undefined : n.currency.toUpperCase();
  const base = {
    id: n.id.toLowerCase(),
    linked: n.flags?.linked ?? false,
    code: n.code,
    reference: n.reference,
    description: n.description,
    userData: n.userData,
  };
  if (n.flags?.postPending || n.flags?.voidPending) {
    return {
      ...base,
      kind: n.flags.postPending ? "post" : "void",
      pendingId: n.pendingId.toLowerCase(),
      debitAccountId: optionalId(n.debitAccountId),
      creditAccountId: optionalId(n.creditAccountId),
      amount: n.amount === "" || currency === undefined ? undefined : parseAmount(n.amount, currency),
      currency,
      expiry: false,
    };
  }
  const code = currency ?? "";
  return {
    ...base,
    kind: n.flags?.pending ? "pending" : "single",
    debitAccountId: n.debitAccountId.toLowerCase(),
    creditAccountId: n.creditAccountId.toLowerCase(),
    amount: parseAmount(n.amount, code),
    currency: code,
    timeoutSeconds: n.timeoutSeconds,
  };
}

const optionalId = (id: string): string | undefined => (id === "" ? undefined : id.toLowerCase());

const violationKinds: Record<ViolationKind, IntegrityViolationKind> = {
  currency_unbalanced: IntegrityViolationKind.CURRENCY_UNBALANCED,
  balance_mismatch: IntegrityViolationKind.BALANCE_MISMATCH,
  limit_exceeded: IntegrityViolationKind.LIMIT_EXCEEDED,
  dangling_transfer: IntegrityViolationKind.DANGLING_TRANSFER,
};

export function violationMessage(v: Violation): IntegrityViolation {
  return create(IntegrityViolationSchema, {
    kind: violationKinds[v.kind],
    currency: v.currency,
    accountId: v.accountId,
    message: v.message,
  });
}
