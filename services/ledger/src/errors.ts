import { Code } from "@connectrpc/connect";
import type { DomainError, Reasons } from "@fintech/platform";
import { defineDomainErrors } from "@fintech/platform";
import { RefusalReason as RefusalReasonProto } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";

/** Why the ledger refuses one transfer; in CreateTransfers results and as CreateTransfer's error reason. */
export type RefusalReason = Reasons<
  | "INSUFFICIENT_FUNDS"
  | "CREDITS_EXCEED_DEBITS"
  | "ACCOUNT_NOT_FOUND"
  | "CURRENCY_MISMATCH"
  | "SAME_ACCOUNT"
  | "ACCOUNT_CLOSED"
  | "PENDING_NOT_FOUND"
  | "PENDING_ALREADY_RESOLVED"
  | "PENDING_EXPIRED"
  | "AMOUNT_EXCEEDS_PENDING"
  | "PENDING_MISMATCH"
  | "EXISTS_WITH_DIFFERENT_FIELDS"
  | "LINKED_EVENT_FAILED"
  | "BALANCE_OVERFLOW"
>;

/** Every error the ledger answers with, named as clients see it in ErrorInfo.reason. */
export type LedgerErrorReason = RefusalReason | Reasons<"VALIDATION_ERROR" | "TRANSFER_NOT_FOUND">;

/** A refused transfer: the reason, a message for humans and structured details (amounts as decimal strings). */
export interface Refusal {
  reason: RefusalReason;
  message: string;
  details: Record<string, string>;
}

// Records over the unions: a new reason without a code or a proto value does not compile.
const ledgerErrors = defineDomainErrors<LedgerErrorReason>("ledger", {
  VALIDATION_ERROR: Code.InvalidArgument,
  TRANSFER_NOT_FOUND: Code.NotFound,
  ACCOUNT_NOT_FOUND: Code.NotFound,
  PENDING_NOT_FOUND: Code.NotFound,
  SAME_ACCOUNT: Code.InvalidArgument,
  INSUFFICIENT_FUNDS: Code.FailedPrecondition,
  CREDITS_EXCEED_DEBITS: Code.FailedPrecondition,
  CURRENCY_MISMATCH: Code.FailedPrecondition,
  ACCOUNT_CLOSED: Code.FailedPrecondition,
  PENDING_ALREADY_RESOLVED: Code.FailedPrecondition,
  PENDING_EXPIRED: Code.FailedPrecondition,
  AMOUNT_EXCEEDS_PENDING: Code.FailedPrecondition,
  PENDING_MISMATCH: Code.FailedPrecondition,
  EXISTS_WITH_DIFFERENT_FIELDS: Code.AlreadyExists,
  LINKED_EVENT_FAILED: Code.Aborted,
  BALANCE_OVERFLOW: Code.OutOfRange,
});

export const LedgerError = ledgerErrors.DomainError;
export type LedgerError = DomainError<LedgerErrorReason>;
export const isLedgerError = ledgerErrors.is;
/** The ledger's one map from domain errors to Connect errors; undefined for anything else. */
export const toConnectError = ledgerErrors.toConnectError;

/** The error CreateTransfer answers with for a refusal. */
export const refusalError = (r: Refusal): LedgerError => new LedgerError(r.reason, r.message, r.details);

const refusalValues: Record<RefusalReason, RefusalReasonProto> = {
  INSUFFICIENT_FUNDS: RefusalReasonProto.INSUFFICIENT_FUNDS,
  CREDITS_EXCEED_DEBITS: RefusalReasonProto.CREDITS_EXCEED_DEBITS,
  ACCOUNT_NOT_FOUND: RefusalReasonProto.ACCOUNT_NOT_FOUND,
  CURRENCY_MISMATCH: RefusalReasonProto.CURRENCY_MISMATCH,
  SAME_ACCOUNT: RefusalReasonProto.SAME_ACCOUNT,
  ACCOUNT_CLOSED: RefusalReasonProto.ACCOUNT_CLOSED,
  PENDING_NOT_FOUND: RefusalReasonProto.PENDING_NOT_FOUND,
  PENDING_ALREADY_RESOLVED: RefusalReasonProto.PENDING_ALREADY_RESOLVED,
  PENDING_EXPIRED: RefusalReasonProto.PENDING_EXPIRED,
  AMOUNT_EXCEEDS_PENDING: RefusalReasonProto.AMOUNT_EXCEEDS_PENDING,
  PENDING_MISMATCH: RefusalReasonProto.PENDING_MISMATCH,
  EXISTS_WITH_DIFFERENT_FIELDS: RefusalReasonProto.EXISTS_WITH_DIFFERENT_FIELDS,
  LINKED_EVENT_FAILED: RefusalReasonProto.LINKED_EVENT_FAILED,
  BALANCE_OVERFLOW: RefusalReasonProto.BALANCE_OVERFLOW,
};

/** The RefusalReason enum value of a refusal in CreateTransfers results. */
export const refusalValue = (reason: RefusalReason): RefusalReasonProto => refusalValues[reason];
